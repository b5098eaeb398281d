-- cohort.sql: creates the warehouse table cohort, one row per transplant of
-- the analysis cohort with its follow-up and every endpoint's time and status
-- (SPEC §3, §4). Columns: transplant_id, patient_id, transplant_type,
-- donor_type (NULL for AUTO), indication, followup_days, then
-- <endpoint>_time and <endpoint>_status for agvhd24 agvhd34 cgvhd grfs
-- infection lfs neutrophil nrm os platelet relapse toxicity, all BIGINT.
-- Time is whole days since the transplant date; status 0 censored at the end
-- of follow-up, 1 event of interest, 2 competing event (death, or relapse for
-- nrm). The ALLO-only endpoints (agvhd24 agvhd34 cgvhd grfs) are NULL for
-- AUTO transplants: they are not defined there.
--
-- Parameters: $1 cutoff (DATE): transplants dated after it are left out and
-- events after it are ignored. $2 all_transplants (BOOLEAN): false keeps each
-- patient's first transplant of each type (earliest date, then smallest
-- transplant_id, the SPEC default), true keeps every transplant.
--
-- Rules (SPEC §3):
--   * Only the first occurrence of an event counts (MIN of its date).
--   * An event of interest on the same day as its competing event counts as
--     the event (relapse before death for relapse, GVHD before death for
--     GVHD), except for nrm: a relapse and a death on the same day are a
--     relapse, the competing event of nrm (SPEC §3).
--   * Follow-up ends at the latest event date of any kind (last_contact
--     included, events after death too) capped at the cutoff: a transplant
--     seen after the cutoff is followed up to the cutoff and censored there.
--     Without any event it is 0 days.
--   * agvhd without a grade counts for none of agvhd24, agvhd34 and grfs.
--     cgvhd without a grade counts for cgvhd, not for grfs.
--   * second_transplant and graft_failure are no endpoint's event (a second
--     transplant does not censor the first), only dates of follow-up.
--
-- Events are read in one aggregation pass (conditional MIN per transplant),
-- so the cost is one scan of events and one hash join, whatever the number
-- of endpoints.
CREATE OR REPLACE TABLE cohort AS
WITH params AS (
    SELECT
        CAST($1 AS DATE)    AS cutoff,
        CAST($2 AS BOOLEAN) AS all_transplants
),
eligible AS (
    -- Transplants up to the cutoff; the first of each patient and type
    -- unless every transplant is asked for.
    SELECT
        t.transplant_id,
        t.patient_id,
        t.transplant_type,
        -- A donor type on an AUTO transplant is kept in the warehouse
        -- (flagged donor_type_on_auto) but means nothing for the analysis.
        CASE WHEN t.transplant_type = 'AUTO' THEN NULL ELSE t.donor_type END AS donor_type,
        t.indication,
        t.transplant_date
    FROM transplants AS t
    CROSS JOIN params AS p
    WHERE t.transplant_date <= p.cutoff
    QUALIFY p.all_transplants
        OR ROW_NUMBER() OVER (
            PARTITION BY t.patient_id, t.transplant_type
            ORDER BY t.transplant_date, t.transplant_id
        ) = 1
),
counted_events AS (
    -- Events after the cutoff are ignored as endpoint events (event NULL
    -- here) but still show that follow-up reached the cutoff.
    SELECT
        e.transplant_id,
        e.event_date,
        CASE WHEN e.event_date <= p.cutoff THEN e.event END AS event,
        e.grade
    FROM events AS e
    CROSS JOIN params AS p
),
event_dates AS (
    -- Per transplant: the last event date of any kind, and the first date
    -- of each kind of counted event.
    SELECT
        transplant_id,
        MAX(event_date)                                                             AS last_date,
        MIN(event_date) FILTER (WHERE event = 'death')                              AS death_date,
        MIN(event_date) FILTER (WHERE event = 'relapse')                            AS relapse_date,
        MIN(event_date) FILTER (WHERE event = 'agvhd' AND grade IN ('2', '3', '4')) AS agvhd24_date,
        MIN(event_date) FILTER (WHERE event = 'agvhd' AND grade IN ('3', '4'))      AS agvhd34_date,
        MIN(event_date) FILTER (WHERE event = 'cgvhd')                              AS cgvhd_date,
        MIN(event_date) FILTER (WHERE event = 'cgvhd' AND grade IN ('MODERATE', 'SEVERE')) AS cgvhd_ms_date,
        MIN(event_date) FILTER (WHERE event = 'neutrophil_engraftment')             AS neutrophil_date,
        MIN(event_date) FILTER (WHERE event = 'platelet_engraftment')               AS platelet_date,
        MIN(event_date) FILTER (WHERE event = 'infection')                          AS infection_date,
        MIN(event_date) FILTER (WHERE event = 'organ_toxicity')                     AS toxicity_date
    FROM counted_events
    GROUP BY transplant_id
),
event_days AS (
    -- The same as days since the transplant; NULL when it never happened.
    SELECT
        el.transplant_id,
        el.patient_id,
        el.transplant_type,
        el.donor_type,
        el.indication,
        -- LEAST skips NULLs: no event at all must give 0, not the cutoff.
        CAST(CASE
            WHEN ed.last_date IS NULL THEN 0
            ELSE LEAST(ed.last_date, p.cutoff) - el.transplant_date
        END AS BIGINT) AS followup_days,
        CAST(ed.death_date - el.transplant_date AS BIGINT)      AS death,
        CAST(ed.relapse_date - el.transplant_date AS BIGINT)    AS relapse,
        CAST(ed.agvhd24_date - el.transplant_date AS BIGINT)    AS agvhd24,
        CAST(ed.agvhd34_date - el.transplant_date AS BIGINT)    AS agvhd34,
        CAST(ed.cgvhd_date - el.transplant_date AS BIGINT)      AS cgvhd,
        CAST(ed.cgvhd_ms_date - el.transplant_date AS BIGINT)   AS cgvhd_ms,
        CAST(ed.neutrophil_date - el.transplant_date AS BIGINT) AS neutrophil,
        CAST(ed.platelet_date - el.transplant_date AS BIGINT)   AS platelet,
        CAST(ed.infection_date - el.transplant_date AS BIGINT)  AS infection,
        CAST(ed.toxicity_date - el.transplant_date AS BIGINT)   AS toxicity,
        el.transplant_type = 'ALLO'                             AS is_allo
    FROM eligible AS el
    CROSS JOIN params AS p
    LEFT JOIN event_dates AS ed
        ON ed.transplant_id = el.transplant_id
)
-- Each endpoint ends at the first of its event and its competing event
-- (LEAST skips NULLs), else at the end of follow-up. For "event x, death
-- before it competes": status 1 when x <= COALESCE(death, x), i.e. x happened
-- and no death strictly before it; else 2 when a death happened; else 0.
SELECT
    transplant_id,
    patient_id,
    transplant_type,
    donor_type,
    indication,
    followup_days,
    CASE WHEN is_allo THEN COALESCE(LEAST(agvhd24, death), followup_days) END AS agvhd24_time,
    CAST(CASE WHEN is_allo THEN
        CASE WHEN agvhd24 <= COALESCE(death, agvhd24) THEN 1 WHEN death IS NOT NULL THEN 2 ELSE 0 END
    END AS BIGINT) AS agvhd24_status,
    CASE WHEN is_allo THEN COALESCE(LEAST(agvhd34, death), followup_days) END AS agvhd34_time,
    CAST(CASE WHEN is_allo THEN
        CASE WHEN agvhd34 <= COALESCE(death, agvhd34) THEN 1 WHEN death IS NOT NULL THEN 2 ELSE 0 END
    END AS BIGINT) AS agvhd34_status,
    CASE WHEN is_allo THEN COALESCE(LEAST(cgvhd, death), followup_days) END AS cgvhd_time,
    CAST(CASE WHEN is_allo THEN
        CASE WHEN cgvhd <= COALESCE(death, cgvhd) THEN 1 WHEN death IS NOT NULL THEN 2 ELSE 0 END
    END AS BIGINT) AS cgvhd_status,
    -- grfs: Kaplan–Meier, the first of agvhd >= 3, moderate/severe cgvhd,
    -- relapse and death.
    CASE WHEN is_allo THEN
        COALESCE(LEAST(agvhd34, cgvhd_ms, relapse, death), followup_days)
    END AS grfs_time,
    CAST(CASE WHEN is_allo THEN
        CASE WHEN COALESCE(agvhd34, cgvhd_ms, relapse, death) IS NOT NULL THEN 1 ELSE 0 END
    END AS BIGINT) AS grfs_status,
    COALESCE(LEAST(infection, death), followup_days) AS infection_time,
    CAST(CASE WHEN infection <= COALESCE(death, infection) THEN 1 WHEN death IS NOT NULL THEN 2 ELSE 0 END AS BIGINT) AS infection_status,
    -- lfs: Kaplan–Meier, relapse or death, whichever first.
    COALESCE(LEAST(relapse, death), followup_days) AS lfs_time,
    CAST(CASE WHEN COALESCE(relapse, death) IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS lfs_status,
    COALESCE(LEAST(neutrophil, death), followup_days) AS neutrophil_time,
    CAST(CASE WHEN neutrophil <= COALESCE(death, neutrophil) THEN 1 WHEN death IS NOT NULL THEN 2 ELSE 0 END AS BIGINT) AS neutrophil_status,
    -- nrm: death without prior or same-day relapse; a relapse on or before
    -- the day of death competes (SPEC §3). So relapse and nrm split the
    -- failures of lfs and relapse + nrm = 1 - lfs at every time.
    COALESCE(LEAST(relapse, death), followup_days) AS nrm_time,
    CAST(CASE WHEN death < COALESCE(relapse, death + 1) THEN 1 WHEN relapse IS NOT NULL THEN 2 ELSE 0 END AS BIGINT) AS nrm_status,
    -- os: Kaplan–Meier, death.
    COALESCE(death, followup_days) AS os_time,
    CAST(CASE WHEN death IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS os_status,
    COALESCE(LEAST(platelet, death), followup_days) AS platelet_time,
    CAST(CASE WHEN platelet <= COALESCE(death, platelet) THEN 1 WHEN death IS NOT NULL THEN 2 ELSE 0 END AS BIGINT) AS platelet_status,
    COALESCE(LEAST(relapse, death), followup_days) AS relapse_time,
    CAST(CASE WHEN relapse <= COALESCE(death, relapse) THEN 1 WHEN death IS NOT NULL THEN 2 ELSE 0 END AS BIGINT) AS relapse_status,
    COALESCE(LEAST(toxicity, death), followup_days) AS toxicity_time,
    CAST(CASE WHEN toxicity <= COALESCE(death, toxicity) THEN 1 WHEN death IS NOT NULL THEN 2 ELSE 0 END AS BIGINT) AS toxicity_status
FROM event_days
ORDER BY transplant_id
