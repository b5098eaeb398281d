-- table_columns.sql: the columns of one table of the session, for the data
-- dictionaries: column_name, data_type (DuckDB's spelling), in table order.
-- $1 (VARCHAR) the table name.
SELECT
    column_name,
    data_type
FROM information_schema.columns
WHERE table_name = $1
ORDER BY ordinal_position
