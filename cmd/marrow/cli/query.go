package cli

import (
	"github.com/spf13/cobra"

	"marrow/pipeline"
)

func newQueryCommand(g *globals) *cobra.Command {
	var o pipeline.QueryOptions
	var format string
	c := &cobra.Command{
		Use:   "query --warehouse DIR 'SELECT ...'",
		Short: "read-only SQL over the warehouse and results",
		Long: `Runs one read-only SQL statement in a sandboxed DuckDB session where the
warehouse tables (transplants, events, cohort, rejects, quality, ingest_summary)
and, when --warehouse is an output's warehouse/, the results (landmarks, curves,
medians, tests) are views. Writing, ATTACH, INSTALL/LOAD and reading files
outside those directories are refused. Prints CSV.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("query takes exactly one SQL statement, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if o.Warehouse == "" {
				return usagef("query needs --warehouse")
			}
			o.SQL = args[0]
			o.Out = g.stdout
			return pipeline.Query(c.Context(), o)
		},
	}
	c.Flags().StringVar(&o.Warehouse, "warehouse", "", "warehouse `DIR` (an --out's warehouse/ also exposes its results/)")
	_ = format
	return c
}
