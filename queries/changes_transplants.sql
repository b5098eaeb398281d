-- changes_transplants.sql: returns one row: the transplants of the previous
-- output (view prev_transplants) and of this run (cur_transplants), and how
-- many were added, removed or changed, matched by transplant_id. Changed =
-- in both with different row_hash; a side without hashes (an output of an
-- older marrow) changes nothing, and the caller does not report it.
WITH matched AS (
    SELECT
        p.transplant_id AS prev_id,
        c.transplant_id AS cur_id,
        p.row_hash      AS prev_hash,
        c.row_hash      AS cur_hash
    FROM prev_transplants AS p
    FULL OUTER JOIN cur_transplants AS c
        ON c.transplant_id = p.transplant_id
)
SELECT
    count(prev_id)                                     AS previous,
    count(cur_id)                                      AS current,
    count(*) FILTER (WHERE prev_id IS NULL)            AS added,
    count(*) FILTER (WHERE cur_id IS NULL)             AS removed,
    count(*) FILTER (WHERE prev_hash <> cur_hash)      AS changed
FROM matched
