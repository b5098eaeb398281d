-- drop_ingest_stream.sql: removes the Arrow stream view of a loaded file.
DROP VIEW IF EXISTS ingest_stream
