-- first_rejects.sql: the first $1 rejected rows in file order
-- (transplants.csv first), for the log. Returns file VARCHAR, line BIGINT,
-- column_name, value, reason VARCHAR.
SELECT
    file,
    line,
    column_name,
    value,
    reason
FROM rejects
ORDER BY file DESC, line
LIMIT $1
