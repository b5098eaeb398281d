package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"marrow/pipeline"
)

// runOptions are the flags of `marrow run`.
type runOptions struct {
	extract    string
	out        string
	cutoff     string
	config     string
	allowEmpty bool
}

func (o *runOptions) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&o.extract, "extract", "", "extract directory with transplants.csv and events.csv (default: the bundled demo registry)")
	f.StringVar(&o.out, "out", "marrow-out", "output directory (replaced atomically)")
	f.StringVar(&o.cutoff, "cutoff", "", "data cutoff `YYYY-MM-DD` (default: the latest event date)")
	f.StringVar(&o.config, "config", "", "TOML config `FILE` (landmarks, conf_type, min_cell, max_reject_rate, cohort)")
	f.BoolVar(&o.allowEmpty, "allow-empty", false, "publish even when the cohort is empty (default: fail, keeping the previous output)")
}

func newRunCommand(g *globals) *cobra.Command {
	var o runOptions
	c := &cobra.Command{
		Use:   "run [--extract DIR] [--out DIR] [--cutoff YYYY-MM-DD] [--config FILE] [--allow-empty]",
		Short: "ingest + analyze + report in one atomic run",
		Long: `Runs the whole nightly job: ingest the extract into the warehouse, derive the
analysis cohort, estimate every endpoint in every stratum, write the report and
the manifest. Outputs are built beside --out and swapped in at the end, so a run
that fails or is killed leaves the previous outputs untouched. Only one run may
use an --out at a time.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			prog := newProgress(g)
			defer prog.done()
			cutoff, err := parseCutoff(o.cutoff)
			if err != nil {
				return err
			}
			cfg, err := pipeline.LoadConfig(o.config)
			if err != nil {
				return usageError{err}
			}
			res, err := pipeline.Run(c.Context(), pipeline.RunOptions{
				Extract:    o.extract,
				Out:        o.out,
				Cutoff:     cutoff,
				Config:     cfg,
				ConfigFile: o.config,
				AllowEmpty: o.allowEmpty,
				Log:        g.logger(prog),
				OnStage:    prog.stage,
				SourceDate: g.sourceDate,
			})
			prog.done()
			if err != nil {
				return err
			}
			fmt.Fprint(g.stdout, whereToLook(res.Out, res.ReportPath))
			return nil
		},
	}
	o.addFlags(c)
	return c
}

// whereToLook is what a finished run prints: the report, the results and
// a query to start from.
func whereToLook(out, report string) string {
	return fmt.Sprintf(`report:  %s
results: %s (landmarks, medians, tests: Parquet and CSV; curves: Parquet)
query:   marrow query --warehouse %s --format table "%s"
`, report, filepath.Join(out, "results")+string(filepath.Separator), shellQuote(out), exampleQuery)
}

// exampleQuery is the query a finished run suggests: the pooled estimates.
const exampleQuery = "SELECT endpoint, day, round(estimate, 3) AS estimate FROM landmarks WHERE transplant_type = '*' AND donor_type = '*' AND indication = '*' ORDER BY endpoint, day"

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// path characters.
func shellQuote(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:,@%", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// parseCutoff parses --cutoff; "" means the default (latest event date).
// A date outside those ingest accepts is refused: 0001-01-01 would
// otherwise read as "no cutoff".
func parseCutoff(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usagef("--cutoff %q: want YYYY-MM-DD", s)
	}
	if t.Year() < 1900 || t.Year() > 2199 {
		return time.Time{}, usagef("--cutoff %s: must be between 1900-01-01 and 2199-12-31", s)
	}
	return t, nil
}

func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", c.Name(), args)
	}
	return nil
}
