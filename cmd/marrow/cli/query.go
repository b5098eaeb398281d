package cli

import (
	"time"

	"github.com/spf13/cobra"

	"marrow/pipeline"
)

// queryOptions are the flags of `marrow query`.
type queryOptions struct {
	warehouse   string
	format      string
	output      string
	timeout     string
	memoryLimit string
}

func (o *queryOptions) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&o.warehouse, "warehouse", "", "an output `DIR` (e.g. marrow-out), its warehouse/ or its results/")
	f.StringVar(&o.format, "format", "", "output `FORMAT`: csv (default), json (one object per line) or table (aligned, for a terminal)")
	f.StringVar(&o.output, "output", "", "write to `FILE` instead of stdout (replaced only on success); FILE.parquet writes Parquet")
	f.StringVar(&o.timeout, "timeout", "10m", "stop the query after `DURATION` (a Go duration: 30s, 10m, 1h)")
	f.StringVar(&o.memoryLimit, "memory-limit", pipeline.DefaultQueryMemoryLimit, "stop the query when DuckDB needs more memory than `SIZE` (500MB, 2GB)")
}

// queryTables is the --help list of what a query sees.
const queryTables = `Tables (views over the output's Parquet files; columns in
queries/warehouse_schema.sql and queries/results_schema.sql):
  transplants     accepted transplants, one row each
  events          accepted events, one row each
  cohort          the analysis cohort: per endpoint <endpoint>_time (days) and
                  <endpoint>_status (0 censored, 1 event, 2 competing event)
  rejects         rejected rows: file, line, column_name, value, reason
  quality         quality flags: flag, transplant_id, file, line, note
  ingest_summary  rows read, accepted and rejected per file, sha256
  landmarks       estimates at the landmark days (results/landmarks.csv)
  curves          every curve step, per endpoint and stratum
  medians         median times (days) with confidence limits
  tests           log-rank and Gray tests
and any other results/*.parquet by its name; a declared analysis's
results/analyses/<name>/*.parquet as <name>.landmarks, <name>.curves, ...
A file DuckDB cannot read is skipped with a warning naming it. SHOW TABLES and
DESCRIBE cohort list the tables and a table's columns.`

const queryExamples = `Examples:
  marrow query --warehouse marrow-out --format table \
    "SELECT endpoint, day, estimate, lower, upper FROM landmarks
     WHERE transplant_type = '*' AND donor_type = '*' AND indication = '*'
     ORDER BY endpoint, day"
  marrow query --warehouse marrow-out \
    'SELECT file, line, column_name, reason FROM rejects ORDER BY file, line'
  marrow query --warehouse marrow-out --output cohort.parquet 'SELECT * FROM cohort'`

func newQueryCommand(g *globals) *cobra.Command {
	var o queryOptions
	c := &cobra.Command{
		Use:   "query --warehouse DIR [--format csv|json|table] [--output FILE] [--timeout DURATION] [--memory-limit SIZE] 'SELECT ...'",
		Short: "read-only SQL over an output's warehouse and results",
		Long: `Runs one read-only SQL statement (DuckDB's dialect) in a sandboxed DuckDB
session and streams the result: rows are written as they are computed, so a
result larger than memory is fine. Writing, ATTACH, INSTALL/LOAD, SET, reading
files outside the output and several statements are refused (exit 2).

Values print as DuckDB's own CLI prints them (-5, 2.0, 3 months, [1, 2],
{'a': 1}); CSV prefixes a text value that starts with = + - @ (a spreadsheet
formula) with ', never a number or date. json is one object per line (JSON
Lines). A query stopped by --timeout or --memory-limit exits 1 naming the
limit.

` + queryTables + `

` + queryExamples,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("query takes exactly one SQL statement in one argument, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts, err := o.options(args[0])
			if err != nil {
				return err
			}
			opts.Out = g.stdout
			opts.Log = g.logger(nil)
			return pipeline.Query(c.Context(), opts)
		},
	}
	o.addFlags(c)
	return c
}

// options validates the flags into the pipeline's options.
func (o *queryOptions) options(sql string) (pipeline.QueryOptions, error) {
	if o.warehouse == "" {
		return pipeline.QueryOptions{}, usagef("query needs --warehouse DIR (an output directory, e.g. marrow-out)")
	}
	timeout, err := parseDuration("--timeout", o.timeout)
	if err != nil {
		return pipeline.QueryOptions{}, err
	}
	return pipeline.QueryOptions{
		Warehouse:   o.warehouse,
		SQL:         sql,
		Format:      o.format,
		Output:      o.output,
		Timeout:     timeout,
		MemoryLimit: o.memoryLimit,
	}, nil
}

// parseDuration parses a positive Go duration flag.
func parseDuration(flag, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, usagef("%s %q: want a positive Go duration such as 30s, 10m or 1h", flag, s)
	}
	return d, nil
}
