-- transplant_row_hash.sql: sets transplants.row_hash from the table
-- row_hashes (rid, the row's number in the table; row_hash), which ingest
-- computes in Go once the events are counted (transforms/rowhash.go): a
-- 64-bit hash of the transplant's own fields and of its accepted events,
-- so that the next run can tell which transplants changed (results/changes)
-- without keeping the previous extract. It depends on the values only: not
-- on source lines, row order or thread count. It is DuckDB's hash() of the
-- fields, the count of the events and the sum of their own hashes
-- (testdata/plainsql/transplant_row_hash.sql), fixed within one DuckDB
-- version only, so results/changes compares hashes only between outputs of
-- the same duckdb_version (manifest.json). The transplants table is loaded
-- in one transaction in file order, so its rowid is the row's number.
UPDATE transplants
SET row_hash = h.row_hash
FROM row_hashes AS h
WHERE transplants.rowid = h.rid
