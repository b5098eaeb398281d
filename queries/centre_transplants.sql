-- centre_transplants.sql: the transplants of centre_cohort (made by
-- centre_cohort.sql), one row each with numbers only but the centre:
-- transplant_type, center_id, os_time, os_status, nrm_time, nrm_status,
-- pattern. In transplant order within each type.
SELECT
    transplant_type,
    center_id,
    os_time,
    os_status,
    nrm_time,
    nrm_status,
    pattern
FROM centre_cohort
ORDER BY transplant_type, transplant_id
