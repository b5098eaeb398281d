-- results_schema.sql: the shapes of results/ (SPEC §4), created empty and
-- filled by the estimate stage. '*' in a stratum column means pooled; a NULL
-- number means "not estimable" and is written as an empty CSV field.
CREATE TABLE landmarks (
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
CREATE TABLE curves (
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
CREATE TABLE medians (
    endpoint        VARCHAR NOT NULL,
    transplant_type VARCHAR NOT NULL,
    donor_type      VARCHAR NOT NULL,
    indication      VARCHAR NOT NULL,
    n               BIGINT  NOT NULL,
    median          DOUBLE,            -- days; NULL when not reached
    lower           DOUBLE,
    upper           DOUBLE
);
CREATE TABLE tests (
    endpoint   VARCHAR NOT NULL,
    comparison VARCHAR NOT NULL,       -- indication | transplant_type
    within     VARCHAR NOT NULL,       -- ALLO | AUTO | <indication>
    statistic  DOUBLE,                 -- NULL: not computable (R's is negative)
    df         INTEGER NOT NULL,
    p_value    DOUBLE,                 -- NULL with statistic
    method     VARCHAR NOT NULL,       -- logrank | gray
    excluded   VARCHAR NOT NULL        -- groups under min_group, ';'-joined in byte order; '' = none
);
