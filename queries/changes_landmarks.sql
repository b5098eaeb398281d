-- changes_landmarks.sql: returns the landmark estimates that both the
-- previous output (view prev_landmarks) and this run (cur_landmarks) have
-- with a standard error, each with beyond = whether the change exceeds the
-- screening limit |new - old| > $1 * sqrt(old_se^2 + new_se^2) ($1 = z).
WITH paired AS (
    SELECT
        c.endpoint,
        c.transplant_type,
        c.donor_type,
        c.indication,
        c.day,
        p.n        AS old_n,
        c.n        AS new_n,
        p.estimate AS old,
        c.estimate AS new,
        p.std_err  AS old_std_err,
        c.std_err  AS new_std_err
    FROM prev_landmarks AS p
    JOIN cur_landmarks AS c
        ON c.endpoint = p.endpoint
        AND c.transplant_type = p.transplant_type
        AND c.donor_type = p.donor_type
        AND c.indication = p.indication
        AND c.day = p.day
    WHERE p.estimate IS NOT NULL
        AND c.estimate IS NOT NULL
        AND p.std_err IS NOT NULL
        AND c.std_err IS NOT NULL
)
SELECT
    endpoint,
    transplant_type,
    donor_type,
    indication,
    day,
    old_n,
    new_n,
    old,
    new,
    old_std_err,
    new_std_err,
    abs(new - old) > $1 * sqrt(old_std_err * old_std_err + new_std_err * new_std_err) AS beyond
FROM paired
ORDER BY endpoint, transplant_type, donor_type, indication, day
