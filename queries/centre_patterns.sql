-- centre_patterns.sql: the covariate patterns of centre_cohort (made by
-- centre_cohort.sql): transplant_type, pattern, then the covariate labels
-- age, indication, disease_status, donor_type, graft_source,
-- conditioning, karnofsky, hct_ci, sex, transplant_year. One row per
-- pattern and label set (two rows with one pattern are a hash collision),
-- in pattern order within each type.
SELECT DISTINCT
    transplant_type,
    pattern,
    age,
    indication,
    disease_status,
    donor_type,
    graft_source,
    conditioning,
    karnofsky,
    hct_ci,
    sex,
    transplant_year
FROM centre_cohort
ORDER BY transplant_type, pattern
