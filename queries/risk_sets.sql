-- risk_sets.sql: the risk table of every endpoint in every stratum of SPEC §3,
-- read from the warehouse table cohort (cohort.sql). One row per stratum and
-- distinct endpoint time at which something happens:
--   endpoint, transplant_type, donor_type, indication   VARCHAR, '*' = pooled
--   time        BIGINT  days since transplant
--   n_risk      BIGINT  subjects of the stratum whose endpoint time is >= time
--                       (survfit's n.risk)
--   n_event     BIGINT  events of interest at time (status 1)
--   n_compete   BIGINT  competing events at time (status 2; 0 for the
--                       Kaplan–Meier endpoints)
--   n_censor    BIGINT  censored at time (status 0)
-- Strata (transplant_type, donor_type, indication): (*,*,*), (type,*,*),
-- (*,*,indication), (type,*,indication), (ALLO,donor,*),
-- (ALLO,donor,indication). There is no (*,donor,...) stratum, and AUTO
-- transplants (donor_type NULL) are in no donor stratum. The ALLO-only
-- endpoints (agvhd24 agvhd34 cgvhd grfs) appear only in strata whose
-- transplant_type is ALLO. GROUPING() tells a pooled '*' from a real NULL.
-- $1 (VARCHAR) names the grouping sets to return, comma-separated: all,
-- type, indication, type_indication, donor, donor_indication (in that
-- order above; all six by default, from the config's strata key).
--
-- One pass: the cohort is unpivoted to one row per transplant and endpoint,
-- counted per finest stratum and time, rolled up with GROUPING SETS over
-- those (small) counts, and n_risk is a reverse running sum over time.
WITH long AS (
    -- One row per transplant and endpoint; UNPIVOT drops the NULL time and
    -- status of the ALLO-only endpoints of AUTO transplants.
    UNPIVOT (
        SELECT
            transplant_type,
            donor_type,
            indication,
            agvhd24_time, agvhd24_status,
            agvhd34_time, agvhd34_status,
            cgvhd_time, cgvhd_status,
            grfs_time, grfs_status,
            infection_time, infection_status,
            lfs_time, lfs_status,
            neutrophil_time, neutrophil_status,
            nrm_time, nrm_status,
            os_time, os_status,
            platelet_time, platelet_status,
            relapse_time, relapse_status,
            toxicity_time, toxicity_status
        FROM cohort
    )
    ON
        (agvhd24_time, agvhd24_status) AS agvhd24,
        (agvhd34_time, agvhd34_status) AS agvhd34,
        (cgvhd_time, cgvhd_status) AS cgvhd,
        (grfs_time, grfs_status) AS grfs,
        (infection_time, infection_status) AS infection,
        (lfs_time, lfs_status) AS lfs,
        (neutrophil_time, neutrophil_status) AS neutrophil,
        (nrm_time, nrm_status) AS nrm,
        (os_time, os_status) AS os,
        (platelet_time, platelet_status) AS platelet,
        (relapse_time, relapse_status) AS relapse,
        (toxicity_time, toxicity_status) AS toxicity
    INTO
        NAME endpoint
        VALUE time, status
),
fine_counts AS (
    -- Counts per finest stratum (type, donor, indication) and time.
    SELECT
        endpoint,
        transplant_type,
        donor_type,
        indication,
        time,
        COUNT(*) FILTER (WHERE status = 1) AS n_event,
        COUNT(*) FILTER (WHERE status = 2) AS n_compete,
        COUNT(*) FILTER (WHERE status = 0) AS n_censor
    FROM long
    WHERE time IS NOT NULL
    GROUP BY endpoint, transplant_type, donor_type, indication, time
),
rolled_up AS (
    -- The SPEC strata as grouping sets; pooled_* = 1 where a dimension is '*'.
    SELECT
        endpoint,
        transplant_type,
        donor_type,
        indication,
        GROUPING(transplant_type) AS pooled_type,
        GROUPING(donor_type)      AS pooled_donor,
        GROUPING(indication)      AS pooled_indication,
        time,
        SUM(n_event)   AS n_event,
        SUM(n_compete) AS n_compete,
        SUM(n_censor)  AS n_censor
    FROM fine_counts
    GROUP BY GROUPING SETS (
        (endpoint, time),
        (endpoint, transplant_type, time),
        (endpoint, indication, time),
        (endpoint, transplant_type, indication, time),
        (endpoint, transplant_type, donor_type, time),
        (endpoint, transplant_type, donor_type, indication, time)
    )
),
named AS (
    -- Each grouping set's name, as the config's strata list spells it.
    SELECT
        *,
        CASE
            WHEN pooled_type = 1 AND pooled_indication = 1 THEN 'all'
            WHEN pooled_type = 1 THEN 'indication'
            WHEN pooled_donor = 1 AND pooled_indication = 1 THEN 'type'
            WHEN pooled_donor = 1 THEN 'type_indication'
            WHEN pooled_indication = 1 THEN 'donor'
            ELSE 'donor_indication'
        END AS stratum_set
    FROM rolled_up
),
strata AS (
    -- Donor strata are ALLO only; ALLO-only endpoints only under ALLO;
    -- only the grouping sets named in $1 (comma-separated).
    SELECT
        endpoint,
        CASE WHEN pooled_type = 1 THEN '*' ELSE transplant_type END AS transplant_type,
        CASE WHEN pooled_donor = 1 THEN '*' ELSE donor_type END     AS donor_type,
        CASE WHEN pooled_indication = 1 THEN '*' ELSE indication END AS indication,
        time,
        n_event,
        n_compete,
        n_censor
    FROM named
    WHERE list_contains(string_split(CAST($1 AS VARCHAR), ','), stratum_set)
        AND (pooled_donor = 1 OR transplant_type = 'ALLO')
        AND (
            endpoint NOT IN ('agvhd24', 'agvhd34', 'cgvhd', 'grfs')
            OR (pooled_type = 0 AND transplant_type = 'ALLO')
        )
)
SELECT
    CAST(endpoint AS VARCHAR)        AS endpoint,
    CAST(transplant_type AS VARCHAR) AS transplant_type,
    CAST(donor_type AS VARCHAR)      AS donor_type,
    CAST(indication AS VARCHAR)      AS indication,
    CAST(time AS BIGINT)             AS time,
    -- At risk at t: endpoint time >= t, a running sum from the last time back.
    CAST(SUM(n_event + n_compete + n_censor) OVER (
        PARTITION BY endpoint, transplant_type, donor_type, indication
        ORDER BY time DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS BIGINT)                     AS n_risk,
    CAST(n_event AS BIGINT)          AS n_event,
    CAST(n_compete AS BIGINT)        AS n_compete,
    CAST(n_censor AS BIGINT)         AS n_censor
FROM strata
ORDER BY endpoint, transplant_type, donor_type, indication, time
