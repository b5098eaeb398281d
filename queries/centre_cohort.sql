-- centre_cohort.sql: creates the temporary table centre_cohort, the
-- benchmark cohort of SPEC §6: one row per cohort transplant dated on or
-- before the cutoff ($1, DATE) minus 365 days, with its centre, the os and
-- nrm times and statuses of the cohort table, the case-mix covariates of
-- the centre risk model as band labels, and its covariate pattern.
-- Columns: transplant_id, transplant_type, center_id ('' when missing),
-- os_time, os_status, nrm_time, nrm_status (BIGINT), the covariates
-- (VARCHAR) age, indication, disease_status, donor_type, graft_source,
-- conditioning, karnofsky, hct_ci, sex, transplant_year, and pattern
-- (BIGINT: transplants with the same covariates share it). centre_transplants.sql and centre_patterns.sql
-- read it, so the covariate strings cross into Go once per pattern.
--
-- Bands (lower edge included): age <18, 18-39, 40-59, 60-69, 70+;
-- Karnofsky <80, 80-89, 90+; HCT-CI 0, 1-2, 3+; transplant year in
-- five-year periods 2010-2014, 2015-2019, ... A missing value is the level
-- MISSING; an AUTO transplant's donor type is NONE. testdata/r/centres.R
-- bands the raw values the same way, independently.
CREATE OR REPLACE TEMP TABLE centre_cohort AS
WITH params AS (
    SELECT CAST($1 AS DATE) - INTERVAL 365 DAY AS latest
),
joined AS (
    SELECT
        c.transplant_id,
        c.transplant_type,
        COALESCE(t.center_id, '') AS center_id,
        c.os_time,
        c.os_status,
        c.nrm_time,
        c.nrm_status,
        t.age_years,
        t.indication,
        t.disease_status,
        c.donor_type,
        t.graft_source,
        t.conditioning,
        t.karnofsky,
        t.hct_ci,
        t.sex,
        CAST(YEAR(t.transplant_date) AS BIGINT) AS year
    FROM cohort AS c
    JOIN transplants AS t
        ON t.transplant_id = c.transplant_id
    CROSS JOIN params AS p
    WHERE t.transplant_date <= p.latest
),
labelled AS (
SELECT
    transplant_id,
    transplant_type,
    center_id,
    os_time,
    os_status,
    nrm_time,
    nrm_status,
    CASE
        WHEN age_years IS NULL THEN 'MISSING'
        WHEN age_years < 18 THEN '<18'
        WHEN age_years < 40 THEN '18-39'
        WHEN age_years < 60 THEN '40-59'
        WHEN age_years < 70 THEN '60-69'
        ELSE '70+'
    END AS age,
    indication,
    COALESCE(disease_status, 'MISSING') AS disease_status,
    CASE WHEN transplant_type = 'AUTO' THEN 'NONE' ELSE COALESCE(donor_type, 'MISSING') END AS donor_type,
    COALESCE(graft_source, 'MISSING') AS graft_source,
    COALESCE(conditioning, 'MISSING') AS conditioning,
    CASE
        WHEN karnofsky IS NULL THEN 'MISSING'
        WHEN karnofsky < 80 THEN '<80'
        WHEN karnofsky < 90 THEN '80-89'
        ELSE '90+'
    END AS karnofsky,
    CASE
        WHEN hct_ci IS NULL THEN 'MISSING'
        WHEN hct_ci = 0 THEN '0'
        WHEN hct_ci <= 2 THEN '1-2'
        ELSE '3+'
    END AS hct_ci,
    COALESCE(sex, 'MISSING') AS sex,
    CAST(year // 5 * 5 AS VARCHAR) || '-' || CAST(year // 5 * 5 + 4 AS VARCHAR) AS transplant_year
FROM joined
)
-- The pattern id is a hash of the labels, not a rank: no sort and no join
-- back over every transplant. centre_patterns.sql lists each id once
-- with its labels, and marrow fails on a collision (two label sets, one
-- id) rather than merge them.
SELECT
    *,
    CAST(hash(age, indication, disease_status, donor_type, graft_source,
        conditioning, karnofsky, hct_ci, sex, transplant_year) // 2 AS BIGINT) AS pattern
FROM labelled
