-- ingest_summary.sql: the stored ingest summary, transplants.csv first.
-- Returns file, sha256 VARCHAR, rows_read, rows_accepted, rows_rejected
-- BIGINT, unknown_columns VARCHAR (comma-separated).
SELECT
    file,
    sha256,
    rows_read,
    rows_accepted,
    rows_rejected,
    unknown_columns
FROM ingest_summary
ORDER BY file DESC
