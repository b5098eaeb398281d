-- centres_schema.sql: the shapes of results/centres and results/centre_model
-- (SPEC §6), created empty and filled by the centre benchmark. A NULL number
-- is "not estimable" (an empty CSV field).
CREATE TABLE centres (
    center_id       VARCHAR NOT NULL,
    transplant_type VARCHAR NOT NULL,  -- ALLO | AUTO
    endpoint        VARCHAR NOT NULL,  -- os | nrm
    n               BIGINT  NOT NULL,  -- benchmark transplants of the centre
    n_events        BIGINT  NOT NULL,  -- events of interest on or before day 365
    observed        DOUBLE,            -- 1-year KM survival (os) or AJ incidence (nrm)
    std_err         DOUBLE,            -- its standard error
    expected        DOUBLE,            -- mean risk-model prediction over the centre
    lower95         DOUBLE,            -- funnel limits around expected
    upper95         DOUBLE,
    lower998        DOUBLE,
    upper998        DOUBLE,
    completeness    DOUBLE,            -- Clark's C over [0, 365]
    flag            VARCHAR NOT NULL,  -- better worse better95 worse95 as_expected not_assessed
    reason          VARCHAR            -- why not_assessed; NULL (empty) otherwise
);
CREATE TABLE centre_model (
    transplant_type VARCHAR NOT NULL,
    endpoint        VARCHAR NOT NULL,
    term            INTEGER NOT NULL,  -- row order within the model
    covariate       VARCHAR NOT NULL,  -- (intercept) or a case-mix covariate
    level           VARCHAR,           -- NULL for the intercept and dropped covariates
    n               BIGINT,            -- transplants at the level (coefficients only)
    estimate        DOUBLE,            -- logit-scale coefficient; NULL for notes
    robust_se       DOUBLE,            -- sandwich standard error
    note            VARCHAR            -- reference, merged into X, aliased, dropped: ...; NULL for coefficients
);
