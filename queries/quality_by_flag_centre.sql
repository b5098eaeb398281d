-- quality_by_flag_centre.sql: quality flags counted by kind and centre of
-- the flagged transplant, for the report's "centres with most records".
-- Returns flag VARCHAR, center_id VARCHAR ('' when not recorded), n BIGINT;
-- sorted by flag, n descending, center_id.
SELECT
    CAST(q.flag AS VARCHAR) AS flag,
    CAST(COALESCE(t.center_id, '') AS VARCHAR) AS center_id,
    CAST(COUNT(*) AS BIGINT) AS n
FROM quality AS q
LEFT JOIN transplants AS t
    ON t.transplant_id = q.transplant_id
GROUP BY q.flag, COALESCE(t.center_id, '')
ORDER BY flag, n DESC, center_id
