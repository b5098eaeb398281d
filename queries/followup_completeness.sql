-- followup_completeness.sql: per transplant type ('*' = all), the cohort
-- transplants dated at least 365 days before the cutoff ($1, DATE) and how
-- many of them were followed for at least 365 days or died before.
-- Returns transplant_type VARCHAR, eligible BIGINT, complete BIGINT.
WITH followed AS (
    SELECT
        c.transplant_type,
        c.transplant_date <= CAST($1 AS DATE) - INTERVAL 365 DAY AS eligible,
        c.followup_days >= 365 OR c.os_status = 1 AS complete
    FROM cohort_wide AS c
),
grouped AS (
    SELECT
        CASE WHEN GROUPING(transplant_type) = 1 THEN '*' ELSE transplant_type END AS transplant_type,
        COUNT(*) FILTER (WHERE eligible) AS eligible,
        COUNT(*) FILTER (WHERE eligible AND complete) AS complete
    FROM followed
    GROUP BY GROUPING SETS ((transplant_type), ())
)
SELECT
    CAST(transplant_type AS VARCHAR) AS transplant_type,
    CAST(eligible AS BIGINT) AS eligible,
    CAST(complete AS BIGINT) AS complete
FROM grouped
ORDER BY transplant_type
