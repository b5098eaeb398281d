-- transplant_row_hash.sql: sets transplants.row_hash, a 64-bit hash of the
-- transplant's own fields and of its accepted events, so that the next run
-- can tell which transplants changed (results/changes) without keeping the
-- previous extract. It depends on the values only: not on source lines,
-- row order or thread count. Each value is written as JSON text (NULL as
-- null, so '' and NULL differ) and hashed with md5 (its lower 64 bits); the
-- events enter as their count and the sum of their own hashes, which does
-- not depend on their order.
UPDATE transplants
SET row_hash = hashed.row_hash
FROM (
    WITH event_hashes AS (
        SELECT
            transplant_id,
            md5_number_lower(CAST(to_json(list_value(
                event, CAST(event_date AS VARCHAR), grade, detail
            )) AS VARCHAR)) AS event_hash
        FROM events
    ),
    event_sums AS (
        SELECT
            transplant_id,
            count(*) AS n_events,
            sum(event_hash) AS hash_sum
        FROM event_hashes
        GROUP BY transplant_id
    )
    SELECT
        t.transplant_id,
        md5_number_lower(CAST(to_json(list_value(
            t.transplant_id, t.patient_id, t.center_id,
            CAST(t.transplant_date AS VARCHAR), t.transplant_type, t.donor_type,
            t.graft_source, t.indication, t.disease_status, t.conditioning,
            CAST(t.age_years AS VARCHAR), t.sex,
            CAST(t.karnofsky AS VARCHAR), CAST(t.hct_ci AS VARCHAR),
            CAST(coalesce(e.n_events, 0) AS VARCHAR),
            CAST(coalesce(e.hash_sum, 0) AS VARCHAR)
        )) AS VARCHAR)) AS row_hash
    FROM transplants AS t
    LEFT JOIN event_sums AS e
        ON e.transplant_id = t.transplant_id
) AS hashed
WHERE transplants.transplant_id = hashed.transplant_id
