package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"marrow/pipeline"
)

type ingestOptions struct {
	extract   string
	warehouse string
	config    string
}

func newIngestCommand(g *globals) *cobra.Command {
	var o ingestOptions
	c := &cobra.Command{
		Use:   "ingest --extract DIR --warehouse DIR [--config FILE]",
		Short: "validate an extract into a Parquet warehouse",
		Long: `Reads transplants.csv and events.csv, rejects bad rows into the rejects table
(file, line, column, value, reason), flags implausible records in the quality
table, and writes the warehouse tables as Parquet. Fails, writing nothing, on a
structural fault or when a file's reject rate exceeds max_reject_rate.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			prog := newProgress(g)
			defer prog.done()
			if o.extract == "" || o.warehouse == "" {
				return usagef("ingest needs --extract and --warehouse")
			}
			cfg, err := pipeline.LoadConfig(o.config)
			if err != nil {
				return usageError{err}
			}
			sum, err := pipeline.Ingest(c.Context(), pipeline.IngestOptions{
				Extract: o.extract, Warehouse: o.warehouse, Config: cfg, ConfigFile: o.config, Log: g.logger(prog), SourceDate: g.sourceDate, OnStage: prog.stage,
			})
			if err != nil {
				return err
			}
			prog.done()
			for _, f := range sum.Files {
				fmt.Fprintf(g.stdout, "%s: read %d, accepted %d, rejected %d\n", f.File, f.RowsRead, f.RowsAccepted, f.RowsRejected)
			}
			fmt.Fprintf(g.stdout, "warehouse: %s\n", o.warehouse)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.extract, "extract", "", "extract `DIR` with transplants.csv and events.csv")
	f.StringVar(&o.warehouse, "warehouse", "", "warehouse `DIR` to write (replaced atomically)")
	f.StringVar(&o.config, "config", "", "TOML config `FILE`")
	return c
}
