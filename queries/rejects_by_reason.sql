-- rejects_by_reason.sql: rejected rows counted by file, column and reason
-- (never the rejected value). Returns file, column_name, reason VARCHAR, n BIGINT.
SELECT
    CAST(file AS VARCHAR) AS file,
    CAST(column_name AS VARCHAR) AS column_name,
    CAST(reason AS VARCHAR) AS reason,
    CAST(COUNT(*) AS BIGINT) AS n
FROM rejects
GROUP BY file, column_name, reason
ORDER BY file, column_name, reason
