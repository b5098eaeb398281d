package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"marrow/pipeline"
)

func newReportCommand(g *globals) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "report --out DIR",
		Short: "write report/index.html and report/report.md from an analyzed --out",
		Long: `Renders the report of an output directory written by analyze or run, and
refreshes its manifest. The report carries no identifiers and suppresses strata
smaller than min_cell.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			prog := newProgress(g)
			defer prog.done()
			if out == "" {
				return usagef("report needs --out")
			}
			path, err := pipeline.Report(c.Context(), pipeline.ReportOptions{Out: out, Log: g.logger(prog), OnStage: prog.stage})
			prog.done()
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "report: %s\n", path)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "output `DIR` written by marrow run or analyze")
	return c
}
