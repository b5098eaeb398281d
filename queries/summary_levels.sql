-- summary_levels.sql: the cohort's categorical characteristics for the
-- report's summary table, counted over all transplants ('*') and within
-- each transplant type. Returns
--   variable VARCHAR, level VARCHAR ('missing' when not recorded;
--   'not applicable' for the donor of an AUTO transplant),
--   transplant_type VARCHAR ('*' = all), n BIGINT.
WITH characteristics AS (
    SELECT
        c.transplant_type,
        c.indication,
        CASE WHEN c.transplant_type = 'AUTO' THEN 'not applicable' ELSE COALESCE(c.donor_type, 'missing') END AS donor_type,
        COALESCE(c.sex, 'missing') AS sex,
        COALESCE(c.conditioning, 'missing') AS conditioning,
        COALESCE(c.graft_source, 'missing') AS graft_source,
        COALESCE(c.disease_status, 'missing') AS disease_status
    FROM cohort_wide AS c
),
-- Counted per combination of the characteristics first (a few thousand
-- rows), so that the unpivot and the roll-up work on those rather than on
-- six rows per transplant: the same sums.
combinations AS (
    SELECT
        transplant_type, indication, donor_type, sex, conditioning, graft_source, disease_status,
        COUNT(*) AS n
    FROM characteristics
    GROUP BY transplant_type, indication, donor_type, sex, conditioning, graft_source, disease_status
),
long AS (
    UNPIVOT combinations
    ON indication, donor_type, sex, conditioning, graft_source, disease_status
    INTO
        NAME variable
        VALUE level
),
counted AS (
    SELECT
        variable,
        level,
        CASE WHEN GROUPING(transplant_type) = 1 THEN '*' ELSE transplant_type END AS transplant_type,
        SUM(n) AS n
    FROM long
    GROUP BY GROUPING SETS ((variable, level, transplant_type), (variable, level))
)
SELECT
    CAST(variable AS VARCHAR) AS variable,
    CAST(level AS VARCHAR) AS level,
    CAST(transplant_type AS VARCHAR) AS transplant_type,
    CAST(n AS BIGINT) AS n
FROM counted
ORDER BY variable, level, transplant_type
