-- default_cutoff.sql: the default data cutoff (SPEC §2, §3), one row with one
-- DATE column, cutoff: the latest event_date in events. When there are no
-- events at all, the latest transplant_date instead, so that every
-- transplant is in the cohort with 0 days of follow-up rather than the cohort
-- being empty. NULL when the warehouse holds no transplants either.
WITH latest_event AS (
    SELECT
        MAX(event_date) AS event_date
    FROM events
),
latest_transplant AS (
    SELECT
        MAX(transplant_date) AS transplant_date
    FROM transplants
)
SELECT
    COALESCE(le.event_date, lt.transplant_date) AS cutoff
FROM latest_event AS le
CROSS JOIN latest_transplant AS lt
ORDER BY cutoff
