-- quality_by_flag.sql: quality flags counted by kind. Returns flag VARCHAR,
-- n BIGINT.
SELECT
    CAST(flag AS VARCHAR) AS flag,
    CAST(COUNT(*) AS BIGINT) AS n
FROM quality
GROUP BY flag
ORDER BY flag
