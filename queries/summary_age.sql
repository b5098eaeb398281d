-- summary_age.sql: cohort size and recipient age (years) over all
-- transplants ('*') and within each transplant type. Returns
--   transplant_type VARCHAR, n BIGINT, age_known BIGINT,
--   age_median, age_min, age_max, age_q1, age_q3 DOUBLE (NULL when no age
--   is known). The median and quartiles are R's quantile() type 7, as
--   quantile_cont. Ages
-- outside 0-100 (kept and flagged value_out_of_range) count as unknown.
WITH ages AS (
    SELECT
        c.transplant_type,
        CASE WHEN c.age_years BETWEEN 0 AND 100 THEN c.age_years END AS age_years
    FROM cohort_wide AS c
),
grouped AS (
    SELECT
        CASE WHEN GROUPING(transplant_type) = 1 THEN '*' ELSE transplant_type END AS transplant_type,
        COUNT(*) AS n,
        COUNT(age_years) AS age_known,
        -- One aggregate for the three quantiles: one selection over the
        -- ages instead of three.
        quantile_cont(age_years, [0.25, 0.5, 0.75]) AS age_q,
        MIN(age_years) AS age_min,
        MAX(age_years) AS age_max
    FROM ages
    GROUP BY GROUPING SETS ((transplant_type), ())
)
SELECT
    CAST(transplant_type AS VARCHAR) AS transplant_type,
    CAST(n AS BIGINT) AS n,
    CAST(age_known AS BIGINT) AS age_known,
    CAST(age_q[2] AS DOUBLE) AS age_median,
    CAST(age_min AS DOUBLE) AS age_min,
    CAST(age_max AS DOUBLE) AS age_max,
    CAST(age_q[1] AS DOUBLE) AS age_q1,
    CAST(age_q[3] AS DOUBLE) AS age_q3
FROM grouped
ORDER BY transplant_type
