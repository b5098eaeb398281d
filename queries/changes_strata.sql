-- changes_strata.sql: returns the endpoints and the strata (endpoint ×
-- transplant_type × donor_type × indication) that are in only one of the
-- previous output's landmarks (view prev_landmarks) and this run's
-- (cur_landmarks). what = endpoint_appeared | endpoint_vanished |
-- stratum_appeared | stratum_vanished; the strata of an endpoint that
-- appeared or vanished as a whole are not listed again. old_n and new_n are
-- the stratum's transplants (NULL on the side that lacks it).
WITH prev_strata AS (
    SELECT DISTINCT endpoint, transplant_type, donor_type, indication, n
    FROM prev_landmarks
),
cur_strata AS (
    SELECT DISTINCT endpoint, transplant_type, donor_type, indication, n
    FROM cur_landmarks
),
prev_endpoints AS (
    SELECT DISTINCT endpoint
    FROM prev_landmarks
),
cur_endpoints AS (
    SELECT DISTINCT endpoint
    FROM cur_landmarks
),
endpoints AS (
    SELECT
        coalesce(c.endpoint, p.endpoint) AS endpoint,
        CASE WHEN p.endpoint IS NULL THEN 'endpoint_appeared' ELSE 'endpoint_vanished' END AS what
    FROM prev_endpoints AS p
    FULL OUTER JOIN cur_endpoints AS c
        ON c.endpoint = p.endpoint
    WHERE p.endpoint IS NULL
        OR c.endpoint IS NULL
),
strata AS (
    SELECT
        coalesce(c.endpoint, p.endpoint)               AS endpoint,
        coalesce(c.transplant_type, p.transplant_type) AS transplant_type,
        coalesce(c.donor_type, p.donor_type)           AS donor_type,
        coalesce(c.indication, p.indication)           AS indication,
        CASE WHEN p.endpoint IS NULL THEN 'stratum_appeared' ELSE 'stratum_vanished' END AS what,
        p.n                                            AS old_n,
        c.n                                            AS new_n
    FROM prev_strata AS p
    FULL OUTER JOIN cur_strata AS c
        ON c.endpoint = p.endpoint
        AND c.transplant_type = p.transplant_type
        AND c.donor_type = p.donor_type
        AND c.indication = p.indication
    WHERE p.endpoint IS NULL
        OR c.endpoint IS NULL
)
SELECT
    what,
    endpoint,
    NULL AS transplant_type,
    NULL AS donor_type,
    NULL AS indication,
    NULL AS old_n,
    NULL AS new_n
FROM endpoints
UNION ALL
SELECT
    what,
    endpoint,
    transplant_type,
    donor_type,
    indication,
    old_n,
    new_n
FROM strata
WHERE endpoint NOT IN (SELECT endpoint FROM endpoints)
ORDER BY what, endpoint, transplant_type NULLS FIRST, donor_type NULLS FIRST, indication NULLS FIRST
