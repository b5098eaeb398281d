-- trend_risk_sets.sql: the first page's trend (report): per endpoint (os,
-- nrm), transplant type and year of transplant, the cohort's distinct
-- endpoint times with the events, competing events and censorings at each.
-- Returns endpoint VARCHAR, transplant_type VARCHAR, year BIGINT, time
-- BIGINT, n_event, n_compete, n_censor BIGINT; sorted by endpoint,
-- transplant_type, year, time. The number at risk is the count at or after
-- each time (the caller sums from the end), as risk_sets.sql.
WITH timed AS (
    SELECT
        c.transplant_type,
        CAST(year(t.transplant_date) AS BIGINT) AS year,
        c.os_time, c.os_status, c.nrm_time, c.nrm_status
    FROM cohort AS c
    JOIN transplants AS t
        ON t.transplant_id = c.transplant_id
),
long AS (
    SELECT 'os' AS endpoint, transplant_type, year, os_time AS time, os_status AS status FROM timed
    UNION ALL
    SELECT 'nrm' AS endpoint, transplant_type, year, nrm_time AS time, nrm_status AS status FROM timed
)
SELECT
    CAST(endpoint AS VARCHAR) AS endpoint,
    CAST(transplant_type AS VARCHAR) AS transplant_type,
    year,
    CAST(time AS BIGINT) AS time,
    CAST(COUNT(*) FILTER (WHERE status = 1) AS BIGINT) AS n_event,
    CAST(COUNT(*) FILTER (WHERE status = 2) AS BIGINT) AS n_compete,
    CAST(COUNT(*) FILTER (WHERE status = 0) AS BIGINT) AS n_censor
FROM long
GROUP BY endpoint, transplant_type, year, time
ORDER BY endpoint, transplant_type, year, time
