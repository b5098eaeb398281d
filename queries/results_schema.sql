-- results_schema.sql: the shapes of results/ (SPEC §4), created empty and
-- filled by the estimate stage. '*' in a stratum column means pooled; a NULL
-- number means "not estimable" and is written as an empty CSV field.
-- Each write re-creates the tables (OR REPLACE): the estimate stage and the
-- changes stage write their tables separately.
CREATE OR REPLACE TABLE landmarks (
    endpoint        VARCHAR NOT NULL,
    transplant_type VARCHAR NOT NULL,
    donor_type      VARCHAR NOT NULL,
    indication      VARCHAR NOT NULL,
    day             INTEGER NOT NULL,
    n               BIGINT  NOT NULL,  -- transplants in the stratum
    n_risk          BIGINT  NOT NULL,  -- endpoint time >= day
    n_events        BIGINT  NOT NULL,  -- events of interest up to day
    estimate        DOUBLE,            -- survival (Kaplan–Meier) or incidence
    std_err         DOUBLE,
    lower           DOUBLE,
    upper           DOUBLE
);
CREATE OR REPLACE TABLE curves (
    endpoint        VARCHAR NOT NULL,
    transplant_type VARCHAR NOT NULL,
    donor_type      VARCHAR NOT NULL,
    indication      VARCHAR NOT NULL,
    time            INTEGER NOT NULL,  -- days; one row per distinct time
    n_risk          BIGINT  NOT NULL,
    n_event         BIGINT  NOT NULL,
    n_compete       BIGINT  NOT NULL,
    n_censor        BIGINT  NOT NULL,
    estimate        DOUBLE,
    std_err         DOUBLE,
    lower           DOUBLE,
    upper           DOUBLE
);
CREATE OR REPLACE TABLE medians (
    endpoint        VARCHAR NOT NULL,
    transplant_type VARCHAR NOT NULL,
    donor_type      VARCHAR NOT NULL,
    indication      VARCHAR NOT NULL,
    n               BIGINT  NOT NULL,
    median          DOUBLE,            -- days; NULL when not reached
    lower           DOUBLE,
    upper           DOUBLE
);
CREATE OR REPLACE TABLE tests (
    endpoint   VARCHAR NOT NULL,
    comparison VARCHAR NOT NULL,       -- indication | transplant_type
    within     VARCHAR NOT NULL,       -- ALLO | AUTO | <indication>
    statistic  DOUBLE,                 -- NULL: not computable (R's is negative)
    df         INTEGER NOT NULL,
    p_value    DOUBLE,                 -- NULL with statistic
    method     VARCHAR NOT NULL,       -- logrank | gray
    excluded   VARCHAR NOT NULL        -- groups under min_group, ';'-joined in byte order; '' = none
);
-- changes: what changed since the output a run replaced (pipeline/changes.go,
-- README "What changed since the previous run"); a first run has none. One
-- row per compared item, long format: kind says what the row compares and
-- which columns it fills; an empty (NULL) column does not apply. No
-- identifier appears: transplants are counted, never listed.
CREATE OR REPLACE TABLE changes (
    kind            VARCHAR NOT NULL,  -- previous | setting | rows_read | rows_accepted | rows_rejected
                                       -- | transplants | transplants_added | transplants_removed | transplants_changed
                                       -- | quality_flags | quality_flags_new | landmarks_screened | landmark
                                       -- | endpoint_appeared | endpoint_vanished | stratum_appeared | stratum_vanished
    item            VARCHAR,           -- file (rows_*), flag (quality_*), setting name, manifest.json (previous)
    endpoint        VARCHAR,           -- landmark, endpoint_*, stratum_*
    transplant_type VARCHAR,           -- landmark, stratum_*: the stratum, '*' = pooled
    donor_type      VARCHAR,
    indication      VARCHAR,
    day             INTEGER,           -- landmark: the landmark day
    old             DOUBLE,            -- the previous output's value (count or estimate)
    new             DOUBLE,            -- this run's value; for *_added/_removed/_changed/_new/_screened the count
    old_std_err     DOUBLE,            -- landmark: the standard errors of old and new
    new_std_err     DOUBLE,
    old_n           BIGINT,            -- landmark, stratum_*: transplants in the stratum
    new_n           BIGINT,
    detail          VARCHAR            -- previous: its manifest.json sha256; setting: old -> new as JSON
);
