-- rejects_by_reason.sql: rejected rows counted by file, column and reason
-- (never the rejected value). Returns file, "column", reason VARCHAR, n BIGINT.
SELECT
    CAST(file AS VARCHAR) AS file,
    CAST("column" AS VARCHAR) AS "column",
    CAST(reason AS VARCHAR) AS reason,
    CAST(COUNT(*) AS BIGINT) AS n
FROM rejects
GROUP BY file, "column", reason
ORDER BY file, "column", reason
