-- load_transplants.sql: copies the validated transplants.csv rows, streamed
-- from Go as the Arrow view arrow_stream, into the transplants table.
INSERT INTO transplants (
    transplant_id, patient_id, center_id, transplant_date, transplant_type,
    donor_type, graft_source, indication, disease_status, conditioning,
    age_years, sex, karnofsky, hct_ci, source_line
)
SELECT
    transplant_id, patient_id, center_id, transplant_date, transplant_type,
    donor_type, graft_source, indication, disease_status, conditioning,
    age_years, sex, karnofsky, hct_ci, source_line
FROM arrow_stream
