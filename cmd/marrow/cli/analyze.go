package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"marrow/pipeline"
)

type analyzeOptions struct {
	warehouse  string
	out        string
	cutoff     string
	config     string
	allowEmpty bool
}

func newAnalyzeCommand(g *globals) *cobra.Command {
	var o analyzeOptions
	c := &cobra.Command{
		Use:   "analyze --warehouse DIR --out DIR [--cutoff YYYY-MM-DD] [--config FILE] [--allow-empty]",
		Short: "derive the cohort and estimate every endpoint from a warehouse",
		Long: `Derives the analysis cohort from a warehouse written by ingest and estimates
every endpoint in every stratum: results/{landmarks,curves,medians,tests} as
Parquet and CSV, plus warehouse/ with the cohort table, under --out.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			prog := newProgress(g)
			defer prog.done()
			if o.warehouse == "" || o.out == "" {
				return usagef("analyze needs --warehouse and --out")
			}
			cutoff, err := parseCutoff(o.cutoff)
			if err != nil {
				return err
			}
			cfg, err := pipeline.LoadConfig(o.config)
			if err != nil {
				return usageError{err}
			}
			if err := pipeline.Analyze(c.Context(), pipeline.AnalyzeOptions{
				Warehouse: o.warehouse, Out: o.out, Cutoff: cutoff, Config: cfg, ConfigFile: o.config, AllowEmpty: o.allowEmpty, Log: g.logger(prog), SourceDate: g.sourceDate, OnStage: prog.stage,
			}); err != nil {
				return err
			}
			prog.done()
			fmt.Fprintf(g.stdout, "results: %s/results\n", o.out)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.warehouse, "warehouse", "", "warehouse `DIR` written by marrow ingest")
	f.StringVar(&o.out, "out", "", "output `DIR` (replaced atomically)")
	f.StringVar(&o.cutoff, "cutoff", "", "data cutoff `YYYY-MM-DD` (default: the latest event date)")
	f.StringVar(&o.config, "config", "", "TOML config `FILE`")
	f.BoolVar(&o.allowEmpty, "allow-empty", false, "publish even when the cohort is empty (default: fail, keeping the previous output)")
	return c
}
