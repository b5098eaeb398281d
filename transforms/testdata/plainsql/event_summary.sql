-- The SQL form of the table event_summary that Ingest makes in Go
-- (eventTally, ingest_tally.go) as it validates the events (hash_sum there
-- as its two 64-bit words hash_lo, hash_hi); its columns but
-- last_date and the term dates, which queries/event_dates.sql.tmpl makes in
-- SQL. Kept as the reference TestEventSummaryPlain compares the tally with;
-- not used by marrow.
-- event_summary.sql: creates the temporary table event_summary, one row per
-- transplant with events: what quality_flags.sql and
-- transplant_row_hash.sql need to know of its events, from one pass over
-- the events table (the GROUP BY of 10^7 rows is the costly part of both;
-- ingest drops the table after them).
--   n_events, hash_sum        the count and the sum of the rows' own hashes
--                             (transplant_row_hash.sql)
--   n_deaths, n_gvhd          death rows; agvhd and cgvhd rows
--   first_death, last_contact, latest_other
--                             the first death, the latest last_contact and
--                             the latest other row, as one BIGINT that
--                             orders rows by (event_date, source_line): days
--                             since 1900-01-01 (dates are validated from
--                             1900 on) times 2^40, plus the line (below
--                             2^40). Plain min/max over it is much faster
--                             than arg_min over 10^7 rows.
CREATE TEMP TABLE event_summary AS
SELECT
    transplant_id,
    count(*)                                                          AS n_events,
    sum(hash(event, event_date, grade, detail))                       AS hash_sum,
    count(*) FILTER (WHERE event = 'death')                           AS n_deaths,
    count(*) FILTER (WHERE event IN ('agvhd', 'cgvhd'))               AS n_gvhd,
    min(date_line) FILTER (WHERE event = 'death')                     AS first_death,
    max(date_line) FILTER (WHERE event = 'last_contact')              AS last_contact,
    max(date_line) FILTER (WHERE event <> 'last_contact')             AS latest_other
FROM (
    SELECT
        transplant_id, event, event_date, grade, detail,
        (event_date - DATE '1900-01-01') * 1099511627776 + source_line AS date_line
    FROM events
)
GROUP BY transplant_id
