-- centre_cohort.sql: the benchmark cohort of SPEC §6, one row per cohort
-- transplant dated on or before the cutoff ($1, DATE) minus 365 days, with
-- the raw values its case-mix covariates are banded from (marrow bands
-- and codes them in Go: pipeline/centres.go). It reads cohort_wide, the
-- cohort with the transplant columns it needs (cohort.sql.tmpl): no join.
-- Only the rows at positions $2 (included) to $3 (excluded): marrow reads
-- the cohort in slices, each result materialized by DuckDB in turn.
-- Columns:
--   pos             the row's position in cohort_wide, which cohort.sql
--                   creates in transplant_id order (TestCohortOrder,
--                   TestCentreCohortOrder): marrow puts the rows in
--                   transplant order by it, so this query needs no sort
--   transplant_type, center_id (VARCHAR; NULL or empty: no centre)
--   os_time, os_status, nrm_time, nrm_status (BIGINT)
--   age_years (DOUBLE), karnofsky, hct_ci, year (BIGINT: of the
--   transplant date), indication, disease_status, donor_type (NULL for
--   AUTO), graft_source, conditioning, sex (VARCHAR)
-- in no particular order.
SELECT
    rowid AS pos,
    transplant_type,
    center_id,
    CAST(os_time AS BIGINT) AS os_time,
    CAST(os_status AS BIGINT) AS os_status,
    CAST(nrm_time AS BIGINT) AS nrm_time,
    CAST(nrm_status AS BIGINT) AS nrm_status,
    age_years,
    CAST(karnofsky AS BIGINT) AS karnofsky,
    CAST(hct_ci AS BIGINT) AS hct_ci,
    CAST(YEAR(transplant_date) AS BIGINT) AS year,
    indication,
    disease_status,
    donor_type,
    graft_source,
    conditioning,
    sex
FROM cohort_wide
WHERE transplant_date <= CAST($1 AS DATE) - INTERVAL 365 DAY
  AND rowid >= $2 AND rowid < $3
