-- centre_cohort.sql: the benchmark cohort of SPEC §6, one row per cohort
-- transplant dated on or before the cutoff ($1, DATE) minus 365 days, with
-- the raw values its case-mix covariates are banded from (marrow bands
-- and codes them in Go: pipeline/centres.go centreBands). Columns:
--   pos             the row's position in cohort, which cohort.sql
--                   creates in transplant_id order (and TestCohortOrder
--                   checks): marrow puts the rows in transplant order by
--                   it, so this query needs no sort
--   transplant_type, center_id (VARCHAR; NULL or empty: no centre)
--   os_time, os_status, nrm_time, nrm_status (BIGINT, from cohort)
--   age_years (DOUBLE), karnofsky, hct_ci, year (BIGINT: of the
--   transplant date), indication, disease_status, donor_type (cohort's:
--   NULL for AUTO), graft_source, conditioning, sex (VARCHAR)
-- in no particular order.
SELECT
    c.rowid AS pos,
    c.transplant_type,
    t.center_id,
    c.os_time,
    c.os_status,
    c.nrm_time,
    c.nrm_status,
    t.age_years,
    CAST(t.karnofsky AS BIGINT) AS karnofsky,
    CAST(t.hct_ci AS BIGINT) AS hct_ci,
    CAST(YEAR(t.transplant_date) AS BIGINT) AS year,
    c.indication,
    t.disease_status,
    c.donor_type,
    t.graft_source,
    t.conditioning,
    t.sex
FROM cohort AS c
JOIN transplants AS t
    ON t.transplant_id = c.transplant_id
WHERE t.transplant_date <= CAST($1 AS DATE) - INTERVAL 365 DAY
