-- The plain form of queries/quality_flags.sql before event_summary.sql: one
-- CTE per flag, its own GROUP BY of the events, every join over all
-- rows. Kept as the reference TestQualityFlagsPlain compares the
-- production statement with; not used by marrow.
-- quality_flags.sql: fills the quality table with accepted rows that are
-- valid but implausible. One row per flagged source row: flag,
-- transplant_id, the file and line of the row, and a note of key=value
-- pairs made of codes, day counts and line numbers only (never the
-- extract's free text). Each implausibility has exactly one flag:
--   two_deaths                 every death of a transplant after its first
--   relapse_after_death        relapse dated after the first death
--   last_contact_after_death   last_contact dated after the first death
--   event_after_death          any other event (not death, relapse,
--                              last_contact) dated after the first death
--   agvhd_without_grade        agvhd with an empty grade
--   cgvhd_without_grade        cgvhd with an empty grade
--   gvhd_in_auto               agvhd or cgvhd of an AUTO transplant
--   last_contact_before_event  the latest last_contact is dated before the
--                              latest other event (flagged on that
--                              last_contact row)
--   allo_without_donor_type    ALLO transplant stored with donor_type
--                              UNKNOWN
--   grade_on_other_event       a grade on an event other than agvhd/cgvhd
--   unknown_grade              an agvhd grade other than 1-4 (or I-IV), a
--                              cgvhd grade other than MILD/MODERATE/SEVERE
--                              (kept as written, never counted as graded)
--   value_out_of_range         age_years outside 0-100, karnofsky outside
--                              10-100, hct_ci below 0 (one row per column)
--   donor_type_on_auto         an AUTO transplant with a donor type
--   no_events                  a transplant without any event row
-- "After" is strictly later: same-day rows are never after one another.
-- "First" and "latest" order rows by date, then line.
INSERT INTO quality (flag, transplant_id, file, line, note)
WITH
-- Per transplant, the first death and the latest rows are found with plain
-- min/max over one BIGINT that orders rows by (event_date, source_line):
-- days since 1900-01-01 (dates are validated from 1900 on) times 2^40,
-- plus the line (below 2^40). Much faster than arg_min over 10^7 rows.
keyed_events AS (
    SELECT
        transplant_id,
        event,
        (event_date - DATE '1900-01-01') * 1099511627776 + source_line AS date_line
    FROM events
),
per_transplant AS (
    SELECT
        transplant_id,
        count(*) FILTER (WHERE event = 'death') AS n_deaths,
        min(date_line) FILTER (WHERE event = 'death') AS first_death,
        max(date_line) FILTER (WHERE event = 'last_contact') AS last_contact,
        max(date_line) FILTER (WHERE event <> 'last_contact') AS latest_other
    FROM keyed_events
    GROUP BY transplant_id
),
followup AS (
    SELECT
        transplant_id,
        n_deaths,
        DATE '1900-01-01' + CAST(first_death // 1099511627776 AS INTEGER) AS death_date,
        first_death % 1099511627776 AS death_line,
        DATE '1900-01-01' + CAST(last_contact // 1099511627776 AS INTEGER) AS last_contact_date,
        last_contact % 1099511627776 AS last_contact_line,
        DATE '1900-01-01' + CAST(latest_other // 1099511627776 AS INTEGER) AS latest_other_date,
        latest_other % 1099511627776 AS latest_other_line
    FROM per_transplant
),
deaths AS (
    SELECT transplant_id, n_deaths, death_date, death_line
    FROM followup
    WHERE n_deaths > 0
),
two_deaths AS (
    SELECT
        'two_deaths' AS flag,
        e.transplant_id,
        'events.csv' AS file,
        e.source_line AS line,
        concat('n_deaths=', d.n_deaths, ' first_death_line=', d.death_line) AS note
    FROM events AS e
    JOIN deaths AS d ON d.transplant_id = e.transplant_id
    WHERE e.event = 'death'
      AND d.n_deaths > 1
      AND e.source_line <> d.death_line
),
after_death AS (
    SELECT
        CASE e.event
            WHEN 'relapse' THEN 'relapse_after_death'
            WHEN 'last_contact' THEN 'last_contact_after_death'
            ELSE 'event_after_death'
        END AS flag,
        e.transplant_id,
        'events.csv' AS file,
        e.source_line AS line,
        concat(
            CASE WHEN e.event IN ('relapse', 'last_contact') THEN '' ELSE concat('event=', e.event, ' ') END,
            'days_after_death=', e.event_date - d.death_date,
            ' death_line=', d.death_line
        ) AS note
    FROM events AS e
    JOIN deaths AS d ON d.transplant_id = e.transplant_id
    WHERE e.event_date > d.death_date
      AND e.event <> 'death'
),
last_contact_before_event AS (
    SELECT
        'last_contact_before_event' AS flag,
        transplant_id,
        'events.csv' AS file,
        last_contact_line AS line,
        concat('days_before=', latest_other_date - last_contact_date, ' event_line=', latest_other_line) AS note
    FROM followup
    WHERE latest_other_date > last_contact_date
),
no_events AS (
    SELECT
        'no_events' AS flag,
        t.transplant_id,
        'transplants.csv' AS file,
        t.source_line AS line,
        'events=0' AS note
    FROM transplants AS t
    ANTI JOIN per_transplant AS p ON p.transplant_id = t.transplant_id
),
gvhd_in_auto AS (
    SELECT
        'gvhd_in_auto' AS flag,
        e.transplant_id,
        'events.csv' AS file,
        e.source_line AS line,
        concat('event=', e.event, ' transplant_line=', t.source_line) AS note
    FROM events AS e
    JOIN transplants AS t ON t.transplant_id = e.transplant_id
    WHERE t.transplant_type = 'AUTO'
      AND e.event IN ('agvhd', 'cgvhd')
),
grades AS (
    -- A GVHD row without a grade, or another event with one.
    SELECT
        CASE
            WHEN event IN ('agvhd', 'cgvhd') THEN concat(event, '_without_grade')
            ELSE 'grade_on_other_event'
        END AS flag,
        transplant_id,
        'events.csv' AS file,
        source_line AS line,
        concat('event=', event) AS note
    FROM events
    WHERE (event IN ('agvhd', 'cgvhd')) = (grade IS NULL)
),
allo_without_donor_type AS (
    SELECT
        'allo_without_donor_type' AS flag,
        transplant_id,
        'transplants.csv' AS file,
        source_line AS line,
        'donor_type=UNKNOWN' AS note
    FROM transplants
    WHERE transplant_type = 'ALLO'
      AND donor_type = 'UNKNOWN'
),
unknown_grade AS (
    SELECT
        'unknown_grade' AS flag,
        transplant_id,
        'events.csv' AS file,
        source_line AS line,
        concat('event=', event) AS note
    FROM events
    WHERE (event = 'agvhd' AND grade NOT IN ('1', '2', '3', '4'))
       OR (event = 'cgvhd' AND grade NOT IN ('MILD', 'MODERATE', 'SEVERE'))
),
out_of_range AS (
    SELECT
        'value_out_of_range' AS flag,
        transplant_id,
        'transplants.csv' AS file,
        source_line AS line,
        note
    FROM (
        SELECT transplant_id, source_line, 'column=age_years' AS note
        FROM transplants
        WHERE age_years < 0 OR age_years > 100
        UNION ALL
        SELECT transplant_id, source_line, 'column=karnofsky' AS note
        FROM transplants
        WHERE karnofsky < 10 OR karnofsky > 100
        UNION ALL
        SELECT transplant_id, source_line, 'column=hct_ci' AS note
        FROM transplants
        WHERE hct_ci < 0
    )
),
donor_type_on_auto AS (
    SELECT
        'donor_type_on_auto' AS flag,
        transplant_id,
        'transplants.csv' AS file,
        source_line AS line,
        concat('donor_type=', donor_type) AS note
    FROM transplants
    WHERE transplant_type = 'AUTO'
      AND donor_type IS NOT NULL
),
all_flags AS (
    SELECT flag, transplant_id, file, line, note FROM two_deaths
    UNION ALL SELECT flag, transplant_id, file, line, note FROM after_death
    UNION ALL SELECT flag, transplant_id, file, line, note FROM last_contact_before_event
    UNION ALL SELECT flag, transplant_id, file, line, note FROM no_events
    UNION ALL SELECT flag, transplant_id, file, line, note FROM gvhd_in_auto
    UNION ALL SELECT flag, transplant_id, file, line, note FROM grades
    UNION ALL SELECT flag, transplant_id, file, line, note FROM allo_without_donor_type
    UNION ALL SELECT flag, transplant_id, file, line, note FROM unknown_grade
    UNION ALL SELECT flag, transplant_id, file, line, note FROM out_of_range
    UNION ALL SELECT flag, transplant_id, file, line, note FROM donor_type_on_auto
)
-- No ORDER BY: the table is sorted when written (WriteWarehouse).
SELECT flag, transplant_id, file, line, note
FROM all_flags
