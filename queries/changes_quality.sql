-- changes_quality.sql: returns per quality flag the flags of the previous
-- output (view prev_quality), those of this run (quality) and how many are
-- new. A flag is the same flag when its kind and transplant_id are:
-- source lines move as an extract grows, and a note can name one. Flags of
-- one kind on one transplant count as a multiset: two where there was one
-- is one new.
WITH prev_counts AS (
    SELECT
        flag,
        transplant_id,
        count(*) AS n
    FROM prev_quality
    GROUP BY flag, transplant_id
),
cur_counts AS (
    SELECT
        flag,
        transplant_id,
        count(*) AS n
    FROM quality
    GROUP BY flag, transplant_id
),
matched AS (
    SELECT
        coalesce(c.flag, p.flag) AS flag,
        coalesce(p.n, 0)         AS prev_n,
        coalesce(c.n, 0)         AS cur_n
    FROM prev_counts AS p
    FULL OUTER JOIN cur_counts AS c
        ON c.flag = p.flag
        AND c.transplant_id = p.transplant_id
)
SELECT
    flag,
    CAST(sum(prev_n) AS BIGINT)                     AS previous,
    CAST(sum(cur_n) AS BIGINT)                      AS current,
    CAST(sum(greatest(cur_n - prev_n, 0)) AS BIGINT) AS new_flags
FROM matched
GROUP BY flag
ORDER BY flag
