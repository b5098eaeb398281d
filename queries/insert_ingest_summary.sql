-- insert_ingest_summary.sql: one row of ingest_summary per extract file.
INSERT INTO ingest_summary (
    file, sha256, rows_read, rows_accepted, rows_rejected, unknown_columns
)
VALUES ($1, $2, $3, $4, $5, $6)
