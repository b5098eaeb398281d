-- transplant_row_hash.sql: sets transplants.row_hash, a 64-bit hash of the
-- transplant's own fields and of its accepted events, so that the next run
-- can tell which transplants changed (results/changes) without keeping the
-- previous extract. It depends on the values only: not on source lines,
-- row order or thread count. The events enter as their count and the sum
-- of their own hashes (n_events and hash_sum of event_summary, which ingest
-- counts in Go as it validates the events: transforms/ingest_tally.go), which
-- does not depend on their order. DuckDB's hash() is fast but only fixed
-- within one DuckDB version, so results/changes compares hashes only
-- between outputs of the same duckdb_version (manifest.json).
UPDATE transplants
SET row_hash = hashed.row_hash
FROM (
    SELECT
        t.transplant_id,
        hash(
            t.transplant_id, t.patient_id, t.center_id, t.transplant_date,
            t.transplant_type, t.donor_type, t.graft_source, t.indication,
            t.disease_status, t.conditioning, t.age_years, t.sex,
            t.karnofsky, t.hct_ci,
            coalesce(e.n_events, 0),
            -- hash_sum, a HUGEINT, as event_summary keeps it in two words
            coalesce((CAST(e.hash_hi AS HUGEINT) << 64) + e.hash_lo, 0)
        ) AS row_hash
    FROM transplants AS t
    LEFT JOIN event_summary AS e
        ON e.transplant_id = t.transplant_id
) AS hashed
WHERE transplants.transplant_id = hashed.transplant_id
