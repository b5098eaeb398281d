// Package transforms turns a registry extract into marrow's warehouse and
// the warehouse into the analysis cohort.
//
// Ingest reads transplants.csv and events.csv (SPEC §1) into the warehouse
// tables of queries/warehouse_schema.sql. Every row read ends in exactly one
// place: the transplants or events table when it is valid, the rejects
// table (file, line, column, value, reason) when it is not. A structural
// fault of a file (missing file or required column, bad CSV quoting, bytes
// that are not UTF-8) stops the ingest with a *StructuralError and leaves
// no table behind. Rows that are valid but implausible (two deaths, events
// after death, GVHD in an autologous transplant, ...) are kept and listed
// in the quality table (quality.go documents the flags), found by the
// validators as they accept the rows and from the per-transplant tally of
// the events they count as they accept them (eventTally); only the death
// flags, when the tally shows any, are a SQL pass (quality_flags.sql).
// WriteWarehouse writes the tables as Parquet sorted on a unique key
// (events are in that order already; so are the transplants when their
// ids came in order), so the same extract always gives the same bytes.
// With IngestOptions.Warehouse the events go from the validators straight
// to events.parquet, never a table.
//
// Rows are split by a zero-copy RFC 4180 reader in one goroutine (checked
// against encoding/csv by FuzzParseCSV), validated by up to four goroutines
// (one per core), put back in file order and handed to DuckDB as Arrow
// record batches by duck.InsertArrow (a view over the stream with the
// duckdb_arrow build tag, duckdb-go's Appender without it), which inserts
// them on one DuckDB thread.
//
// DeriveCohort computes, per transplant, each endpoint's time and status
// (SPEC §3) from the warehouse tables into the cohort table. After Ingest
// it reads the event dates from event_summary (each term's first date and
// the last event date, also counted by the validators) instead of the 10^7
// events; on a loaded warehouse it makes that table in one aggregation
// pass (queries/event_dates.sql.tmpl).
package transforms
