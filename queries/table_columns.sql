-- table_columns.sql: the columns of table $1 (VARCHAR) of the session's
-- database in order, with DuckDB's type name and whether NULL is allowed;
-- gives the Arrow schema of the results tables built in Go.
SELECT
    column_name,
    data_type,
    is_nullable = 'YES' AS nullable
FROM information_schema.columns
WHERE table_schema = 'main'
    AND table_name = CAST($1 AS VARCHAR)
ORDER BY ordinal_position
