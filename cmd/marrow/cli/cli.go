// Package cli is marrow's command line: one file per subcommand, each a
// newXCommand() with an options struct, flags → options → Validate() →
// a pipeline call. It is the only place that reads flags, environment
// variables and signals, and maps errors to exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"marrow/pipeline"
)

// Exit codes, documented in every command's --help.
const (
	ExitOK        = 0   // success
	ExitFailed    = 1   // the run failed (too many rejects, locked output, I/O, ...)
	ExitUsage     = 2   // bad command line, config or input structure
	ExitCancelled = 130 // interrupted by SIGINT or SIGTERM
)

const exitCodesHelp = `Exit status:
  0    success
  1    the run failed (too many rejected rows, output locked by another run, I/O error)
  2    bad command line, bad config, or bad input structure (missing file or column, not UTF-8)
  130  cancelled by SIGINT/SIGTERM; previous outputs are left as they were`

// usageError marks a bad command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// globals are the flags every command shares.
type globals struct {
	logJSON bool
	quiet   bool
	verbose bool
	stdout  io.Writer
	stderr  io.Writer
	stdin   io.Reader
	// sourceDate is SOURCE_DATE_EPOCH: the only clock allowed into outputs.
	sourceDate string
}

// logger returns the run's logger: text (or JSON with --log-json) on
// stderr, through the terminal spinner when there is one.
func (g *globals) logger(p *progress) *slog.Logger {
	var w io.Writer = g.stderr
	if p != nil {
		w = p
	}
	level := slog.LevelInfo
	if g.quiet {
		level = slog.LevelWarn
	}
	if g.verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if g.logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Main runs marrow with args and returns the exit status. SIGINT and
// SIGTERM cancel the context that reaches every stage and DuckDB query.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, stdin, stdout, stderr)
}

// Run is Main with a caller-supplied context (tests use it).
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr, stdin: stdin, sourceDate: os.Getenv("SOURCE_DATE_EPOCH")}
	root := &cobra.Command{
		Use:   "marrow",
		Short: "HSCT registry outcomes: extract → Parquet warehouse → estimates → report",
		Long: `marrow ingests a registry extract (transplants.csv, events.csv) into a Parquet
warehouse, estimates survival, relapse, NRM, GVHD, GRFS and engraftment by
indication and transplant type (equal to R survival/cmprsk), and writes a
reproducible report.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().BoolVar(&g.logJSON, "log-json", false, "write logs as JSON lines (default: text)")
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "log warnings and errors only")
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "also log the timings of each stage's parts")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newRunCommand(g), newIngestCommand(g), newAnalyzeCommand(g),
		newReportCommand(g), newQueryCommand(g), newSynthCommand(g), newVersionCommand(g))
	root.Version = pipeline.Version
	root.SetVersionTemplate(versionText())
	root.Flags().Bool("version", false, "print the versions of marrow, Go and DuckDB, and the build tag")
	for _, c := range root.Commands() {
		c.Long = c.Short + "\n\n" + c.Long + "\n\n" + exitCodesHelp
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(ctx, err)
	fmt.Fprintf(stderr, "marrow: %s\n", pipeline.Message(err))
	return code
}

// exitCode maps an error to the documented exit status.
func exitCode(ctx context.Context, err error) int {
	var ue usageError
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.As(err, &ue), pipeline.IsBadInput(err):
		return ExitUsage
	default:
		// cobra reports unknown commands and wrong argument counts as
		// plain errors; they are usage errors too.
		if isCobraUsage(err) {
			return ExitUsage
		}
		return ExitFailed
	}
}

func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "required flag", "invalid argument"} {
		if len(msg) >= len(p) && msg[:len(p)] == p {
			return true
		}
	}
	return false
}
