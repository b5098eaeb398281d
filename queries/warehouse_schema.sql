-- warehouse_schema.sql: the shapes of the warehouse tables, created empty.
-- Every other statement reads or fills these; nothing else defines them.
-- Dates are DATE; codes are upper-case (events lower-case); *_line is the
-- 1-based line of the source CSV where the record starts.
CREATE TABLE transplants (
    transplant_id   VARCHAR NOT NULL,
    patient_id      VARCHAR NOT NULL,
    center_id       VARCHAR,
    transplant_date DATE    NOT NULL,
    transplant_type VARCHAR NOT NULL,   -- ALLO | AUTO
    donor_type      VARCHAR,            -- MSD MUD MMUD HAPLO CORD OTHER UNKNOWN; NULL for AUTO
    graft_source    VARCHAR,            -- BM PB CB
    indication      VARCHAR NOT NULL,
    disease_status  VARCHAR,            -- EARLY INTERMEDIATE ADVANCED
    conditioning    VARCHAR,            -- MAC RIC NMA
    age_years       DOUBLE,
    sex             VARCHAR,            -- M F
    karnofsky       INTEGER,
    hct_ci          INTEGER,
    source_line     BIGINT  NOT NULL,
    row_hash        UBIGINT             -- the row's fields and its events, hashed (transplant_row_hash.sql)
);
CREATE TABLE events (
    transplant_id VARCHAR NOT NULL,
    event         VARCHAR NOT NULL,     -- death relapse agvhd cgvhd ... last_contact
    event_date    DATE    NOT NULL,
    grade         VARCHAR,              -- agvhd 1-4 (roman numerals converted); cgvhd MILD MODERATE SEVERE
    detail        VARCHAR,              -- free text, never reported
    source_line   BIGINT  NOT NULL      -- unique within events.csv
);
CREATE TABLE rejects (
    file   VARCHAR NOT NULL,            -- transplants.csv | events.csv
    line   BIGINT  NOT NULL,
    column_name VARCHAR NOT NULL,       -- column name ('' when the row as a whole is bad)
    value  VARCHAR NOT NULL,
    reason VARCHAR NOT NULL
);
CREATE TABLE quality (
    flag          VARCHAR NOT NULL,     -- e.g. two_deaths, relapse_after_death
    transplant_id VARCHAR NOT NULL,
    file          VARCHAR NOT NULL,
    line          BIGINT  NOT NULL,
    note          VARCHAR NOT NULL      -- short machine text, never free text from the extract
);
CREATE TABLE ingest_summary (
    file            VARCHAR NOT NULL,
    sha256          VARCHAR NOT NULL,
    rows_read       BIGINT  NOT NULL,
    rows_accepted   BIGINT  NOT NULL,
    rows_rejected   BIGINT  NOT NULL,
    unknown_columns VARCHAR NOT NULL    -- comma-separated, as in the header
);
