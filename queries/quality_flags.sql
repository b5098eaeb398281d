-- quality_flags.sql: adds to the quality table the death flags of accepted
-- events (the other flags are found in Go as the rows are validated, see
-- transforms/quality.go, which documents every flag):
--   two_deaths                 every death of a transplant after its first
--   relapse_after_death        relapse dated after the first death
--   last_contact_after_death   last_contact dated after the first death
--   event_after_death          any other event (not death, relapse,
--                              last_contact) dated after the first death
-- "After" is strictly later: same-day rows are never after one another.
-- "First" orders rows by date, then line. The events are joined only to the
-- few transplants that can have a death flag; ingest runs this only when
-- there is one.
INSERT INTO quality (flag, transplant_id, file, line, note)
WITH
-- The transplants with a death flag to find (a second death, or a row
-- dated after the first death), each with its first death encoded as
-- (days since 1900-01-01) * 2^40 + source_line: the table
-- death_candidates, which ingest makes from its event tally.
deaths AS (
    SELECT
        transplant_id,
        n_deaths,
        DATE '1900-01-01' + CAST(first_death // 1099511627776 AS INTEGER) AS death_date,
        first_death % 1099511627776 AS death_line
    FROM death_candidates
)
-- No ORDER BY: the table is sorted when written (WriteWarehouse).
SELECT
    CASE
        WHEN e.event = 'death' THEN 'two_deaths'
        WHEN e.event = 'relapse' THEN 'relapse_after_death'
        WHEN e.event = 'last_contact' THEN 'last_contact_after_death'
        ELSE 'event_after_death'
    END AS flag,
    e.transplant_id,
    'events.csv' AS file,
    e.source_line AS line,
    CASE
        WHEN e.event = 'death' THEN concat('n_deaths=', d.n_deaths, ' first_death_line=', d.death_line)
        ELSE concat(
            CASE WHEN e.event IN ('relapse', 'last_contact') THEN '' ELSE concat('event=', e.event, ' ') END,
            'days_after_death=', e.event_date - d.death_date,
            ' death_line=', d.death_line)
    END AS note
FROM events AS e
JOIN deaths AS d ON d.transplant_id = e.transplant_id
WHERE CASE WHEN e.event = 'death' THEN d.n_deaths > 1 AND e.source_line <> d.death_line
           ELSE e.event_date > d.death_date END
