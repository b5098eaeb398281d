-- cohort_flow.sql: how the accepted transplants become the cohort (SPEC §3),
-- for the report's first page. Parameter $1 cutoff (DATE). Returns one row:
--   accepted BIGINT (transplants in the warehouse), after_cutoff BIGINT
--   (dated after the cutoff), later BIGINT (dated on or before it but not
--   in the cohort: a later transplant of the same type of the same
--   patient), analysed BIGINT (the cohort). accepted = after_cutoff +
--   later + analysed.
WITH counts AS (
    SELECT
        COUNT(*) AS accepted,
        COUNT(*) FILTER (WHERE transplant_date > CAST($1 AS DATE)) AS after_cutoff
    FROM transplants
),
analysed AS (
    SELECT COUNT(*) AS analysed FROM cohort
)
SELECT
    CAST(c.accepted AS BIGINT) AS accepted,
    CAST(c.after_cutoff AS BIGINT) AS after_cutoff,
    CAST(c.accepted - c.after_cutoff - a.analysed AS BIGINT) AS later,
    CAST(a.analysed AS BIGINT) AS analysed
FROM counts AS c
CROSS JOIN analysed AS a
