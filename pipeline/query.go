package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"marrow/internal/duck"
)

// Query defaults (SPEC §2).
const (
	DefaultQueryTimeout     = 10 * time.Minute
	DefaultQueryMemoryLimit = "2GB"
)

// Query formats.
const (
	FormatCSV     = "csv"
	FormatJSON    = "json"
	FormatTable   = "table"
	FormatParquet = "parquet"
)

// QueryOptions are the inputs of Query.
type QueryOptions struct {
	// Warehouse is an output directory, its warehouse/ or its results/: the
	// output's warehouse and results tables are views either way.
	Warehouse string
	SQL       string // one read-only SELECT statement
	// Format is csv, json (one object per line) or table; "" is csv, or
	// Parquet when Output ends in .parquet.
	Format string
	Out    io.Writer // where the result goes when Output is ""
	// Output is a file to write instead of Out, replaced only once the
	// query has succeeded; a .parquet name writes Parquet.
	Output      string
	Timeout     time.Duration // 0: DefaultQueryTimeout
	MemoryLimit string        // DuckDB size; "": DefaultQueryMemoryLimit
	Log         *slog.Logger  // notes: what --warehouse was taken to be, skipped files
}

// ErrNotReadOnly is returned for any statement that is not a plain query.
var ErrNotReadOnly = errors.New("only a single read-only SELECT statement is allowed")

// Query runs one read-only statement over the Parquet files of an output's
// warehouse and results and writes the result, streamed: rows are written
// as DuckDB produces them, never collected first, so neither a huge result
// nor a slow one needs more than the memory limit.
//
// The session is locked down before the user's SQL is seen: external access
// is limited to the output's directories (and, for Parquet, the one file
// marrow writes), extensions can be neither installed nor loaded, and the
// configuration is locked so the statement cannot undo any of it. The text
// must hold exactly one statement, which DuckDB prepares (nothing runs) and
// types as SELECT — so no COPY, ATTACH, CREATE, INSERT, SET, INSTALL, LOAD,
// PRAGMA — before it is run inside DuckDB's query() table function, which
// takes a SELECT only.
//
// Values are printed as DuckDB's own CLI prints them (its cast to VARCHAR:
// `-5`, `3 months`, `[1, 2]`, `{'a': 1}`); in CSV a text value a spreadsheet
// would run as a formula is prefixed with a quote (CSVSafe), never a number,
// date or interval.
func Query(ctx context.Context, o QueryOptions) error {
	log := orDiscard(o.Log)
	format, err := queryFormat(o.Format, o.Output)
	if err != nil {
		return badInput(err)
	}
	src, err := resolveQueryDirs(o.Warehouse)
	if err != nil {
		return badInput(err)
	}
	if src.note != "" {
		log.Info(src.note)
	}
	if o.Output != "" {
		if err := checkQueryOutput(o.Output, src); err != nil {
			return badInput(err)
		}
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultQueryTimeout
	}
	if timeout < 0 {
		return badInput(fmt.Errorf("query: --timeout %s: want a positive duration", timeout))
	}
	memLimit := o.MemoryLimit
	if memLimit == "" {
		memLimit = DefaultQueryMemoryLimit
	}

	db, err := duck.OpenStream(ctx, duck.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Exec(ctx, "SET memory_limit = "+duck.Literal(memLimit)); err != nil {
		return badInput(fmt.Errorf("query: --memory-limit %q: %s", memLimit, oneLine(err.Error())))
	}
	broken, err := createQueryViews(ctx, db, src, log)
	if err != nil {
		return err
	}

	// The Parquet writer is DuckDB's own COPY (the pipeline's writer),
	// into a fresh file beside the target that the locked session may
	// create and nothing else, renamed over the target only once the query
	// has succeeded. The file is in a private (0700) directory, so no one
	// can plant a symlink at the name DuckDB opens.
	var staged string
	if format == FormatParquet {
		dir, err := os.MkdirTemp(filepath.Dir(o.Output), "."+filepath.Base(o.Output)+".tmp-")
		if err != nil {
			return fmt.Errorf("query: %w", writeError{err})
		}
		defer os.RemoveAll(dir)
		staged = filepath.Join(dir, "result.parquet")
	}
	if err := lockDownQuerySession(ctx, db, src.dirs, staged); err != nil {
		return err
	}

	st, err := db.Describe(o.SQL)
	switch {
	case errors.Is(err, duck.ErrSeveralStatements):
		return badInput(fmt.Errorf("query: %v: %w", err, ErrNotReadOnly))
	case err != nil:
		return badInput(fmt.Errorf("query: %s", explainQueryError(oneLine(err.Error()), broken)))
	case !st.Select:
		return badInput(fmt.Errorf("query: %w", ErrNotReadOnly))
	}

	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	inner := "query(" + duck.Literal(o.SQL) + ")"
	if format == FormatParquet {
		err = db.Exec(qctx, "COPY (SELECT * FROM "+inner+") TO "+duck.Literal(staged)+
			" (FORMAT parquet, COMPRESSION zstd, USE_TMP_FILE false)")
		if err == nil {
			err = syncAndRename(staged, o.Output)
		}
	} else {
		err = writeQueryFile(o.Output, o.Out, func(w io.Writer) error {
			return streamQuery(qctx, db, inner, st.Columns, format, w)
		})
	}
	return queryFailure(ctx, err, timeout, memLimit, broken)
}

// queryFailure turns the error of a running query into the one line the
// command prints: which limit stopped it, or DuckDB's reason.
func queryFailure(ctx context.Context, err error, timeout time.Duration, memLimit string, broken map[string]string) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("query: time limit %s reached (--timeout)", shortDuration(timeout))
	case errors.Is(err, duck.ErrOutOfMemory):
		return fmt.Errorf("query: memory limit %s reached (--memory-limit)", memLimit)
	}
	var we writeError
	if errors.As(err, &we) {
		return fmt.Errorf("query: %w", err)
	}
	// The statement DuckDB ran is marrow's wrapper around the user's, so
	// its "LINE 1: ..." excerpt would only confuse: drop it.
	return badInput(fmt.Errorf("query: %s", explainQueryError(duckReason(err), broken)))
}

// writeError is a failure to write the result (disk full, closed pipe), as
// opposed to the query failing.
type writeError struct{ err error }

func (e writeError) Error() string { return "write result: " + e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// queryFormat checks --format against --output.
func queryFormat(format, output string) (string, error) {
	parquet := strings.EqualFold(filepath.Ext(output), ".parquet")
	switch format {
	case "":
		if parquet {
			return FormatParquet, nil
		}
		return FormatCSV, nil
	case FormatCSV, FormatJSON, FormatTable:
		if parquet {
			return "", fmt.Errorf("query: --output %s is Parquet, --format %s is not: drop --format or rename the file", output, format)
		}
		return format, nil
	case FormatParquet:
		if !parquet {
			return "", fmt.Errorf("query: --format parquet needs --output FILE.parquet")
		}
		return FormatParquet, nil
	}
	return "", fmt.Errorf("query: --format %q: want csv, json or table", format)
}

// queryDirs are the directories a query sees.
type queryDirs struct {
	warehouse string // "" when only results/ was found
	results   string // "" when there is none
	dirs      []string
	note      string // what --warehouse was taken to be, when not the obvious
}

// resolveQueryDirs accepts an output directory, its warehouse/ or its
// results/ (any directory of Parquet files, in fact: an `ingest
// --warehouse` has no results).
func resolveQueryDirs(path string) (queryDirs, error) {
	var q queryDirs
	if path == "" {
		return q, fmt.Errorf("query: needs --warehouse DIR (an output directory or its warehouse/)")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return q, err
	}
	if !isDir(abs) {
		return q, fmt.Errorf("query: --warehouse %s is not a directory", path)
	}
	switch {
	case isDir(filepath.Join(abs, "warehouse")):
		// An output directory.
		q.warehouse = filepath.Join(abs, "warehouse")
		if isDir(filepath.Join(abs, "results")) {
			q.results = filepath.Join(abs, "results")
		}
	case filepath.Base(abs) == "results":
		q.results = abs
		if wh := filepath.Join(filepath.Dir(abs), "warehouse"); isDir(wh) {
			q.warehouse = wh
			q.note = fmt.Sprintf("--warehouse %s is the results/ of output %s: querying its warehouse/ and results/", path, filepath.Dir(abs))
		} else {
			q.note = fmt.Sprintf("--warehouse %s is a results/ directory without a warehouse/ beside it: querying the results only", path)
		}
	default:
		q.warehouse = abs
		if res := filepath.Join(filepath.Dir(abs), "results"); filepath.Base(abs) == "warehouse" && isDir(res) {
			q.results = res
		}
	}
	for _, d := range []string{q.warehouse, q.results} {
		if d != "" {
			q.dirs = append(q.dirs, d)
		}
	}
	n := 0
	for _, d := range q.dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.parquet"))
		n += len(files)
	}
	if n == 0 {
		return q, fmt.Errorf("query: --warehouse %s has no tables (no .parquet files): want an output directory or its warehouse/", path)
	}
	return q, nil
}

// checkQueryOutput refuses an --output that would change the output being
// queried (its manifest would no longer verify) or that is a directory.
func checkQueryOutput(output string, src queryDirs) error {
	abs, err := filepath.Abs(output)
	if err != nil {
		return err
	}
	// Compare real paths: a symlinked directory must not lead inside.
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(dir, filepath.Base(abs))
	}
	for _, d := range src.dirs {
		if a, err := filepath.Abs(d); err == nil {
			d = a
		}
		if real, err := filepath.EvalSymlinks(d); err == nil {
			d = real
		}
		if within(abs, d) || within(abs, filepath.Dir(d)) && isOutputDir(filepath.Dir(d)) {
			return fmt.Errorf("query: --output %s is inside the output being queried (%s): write it elsewhere", output, filepath.Dir(d))
		}
	}
	if isDir(abs) {
		return fmt.Errorf("query: --output %s is a directory", output)
	}
	if !isDir(filepath.Dir(abs)) {
		return fmt.Errorf("query: --output %s: directory %s does not exist", output, filepath.Dir(abs))
	}
	return nil
}

// isOutputDir reports whether dir looks like a marrow output.
func isOutputDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "manifest.json"))
	return err == nil
}

// createQueryViews makes every Parquet file a view: <dir>/<t>.parquet is
// table t, results/analyses/<name>/<t>.parquet is <name>.<t>. A file that
// DuckDB cannot open is skipped and named in the log, so one damaged file
// does not stop queries of the others; broken maps its table to the reason.
func createQueryViews(ctx context.Context, db *duck.Stream, src queryDirs, log *slog.Logger) (map[string]string, error) {
	type view struct{ schema, name, file string }
	var views []view
	for _, d := range src.dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.parquet"))
		sort.Strings(files)
		for _, f := range files {
			views = append(views, view{"", strings.TrimSuffix(filepath.Base(f), ".parquet"), f})
		}
	}
	if src.results != "" {
		files, _ := filepath.Glob(filepath.Join(src.results, "analyses", "*", "*.parquet"))
		sort.Strings(files)
		for _, f := range files {
			views = append(views, view{filepath.Base(filepath.Dir(f)), strings.TrimSuffix(filepath.Base(f), ".parquet"), f})
		}
	}
	broken := map[string]string{}
	schemas := map[string]bool{}
	for _, v := range views {
		name := quoteIdent(v.name)
		table := v.name
		if v.schema != "" {
			if !schemas[v.schema] {
				if err := db.Exec(ctx, "CREATE SCHEMA "+quoteIdent(v.schema)); err != nil {
					log.Warn("query: skipped analysis "+v.schema, "reason", oneLine(err.Error()))
					schemas[v.schema] = true
					continue
				}
				schemas[v.schema] = true
			}
			name = quoteIdent(v.schema) + "." + name
			table = v.schema + "." + v.name
		}
		stmt := "CREATE VIEW " + name + " AS SELECT * FROM read_parquet(" + duck.Literal(v.file) + ")"
		if err := db.Exec(ctx, stmt); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			reason := duckReason(err)
			broken[table] = v.file + ": " + reason
			log.Warn("query: table "+table+" skipped", "file", v.file, "reason", reason)
		}
	}
	return broken, nil
}

// lockDownQuerySession confines the session before the user's statement is
// seen. writable is the one file a COPY of marrow's may create ("" none).
func lockDownQuerySession(ctx context.Context, db *duck.Stream, dirs []string, writable string) error {
	quoted := make([]string, len(dirs))
	for i, d := range dirs {
		quoted[i] = duck.Literal(d + string(os.PathSeparator))
	}
	stmts := []string{
		"SET allowed_directories = [" + strings.Join(quoted, ", ") + "]",
		// Spilling would write outside those directories; the memory
		// limit is a hard limit instead.
		"SET temp_directory = ''",
	}
	if writable != "" {
		stmts = append(stmts, "SET allowed_paths = ["+duck.Literal(writable)+"]")
	}
	stmts = append(stmts,
		"SET enable_external_access = false",
		"SET allow_community_extensions = false",
		"SET lock_configuration = true",
	)
	for _, s := range stmts {
		if err := db.Exec(ctx, s); err != nil {
			return fmt.Errorf("query: lock down session (%s): %s", s, oneLine(err.Error()))
		}
	}
	return nil
}

// explainQueryError is DuckDB's reason on one line, naming the skipped
// file when the statement needs a table that could not be opened.
func explainQueryError(msg string, broken map[string]string) string {
	tables := make([]string, 0, len(broken))
	for t := range broken {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		if strings.Contains(msg, "name "+t+" does not exist") || strings.Contains(msg, "name "+t[strings.LastIndexByte(t, '.')+1:]+" does not exist") {
			return "table " + t + " is unavailable: " + broken[t]
		}
	}
	return msg
}

// writeQueryFile runs write into out, or into a temporary file beside
// output renamed over it once write has succeeded, so a failed or stopped
// query never leaves half a file behind.
func writeQueryFile(output string, out io.Writer, write func(io.Writer) error) error {
	if output == "" {
		return write(out)
	}
	f, err := createTempBeside(output)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return writeError{err}
	}
	return syncAndRename(f.Name(), output)
}

func createTempBeside(output string) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".tmp-*")
	if err != nil {
		return nil, writeError{err}
	}
	return f, nil
}

// syncAndRename makes tmp durable and renames it to path.
func syncAndRename(tmp, path string) error {
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return writeError{err}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return writeError{err}
	}
	if err := f.Close(); err != nil {
		return writeError{err}
	}
	if err := os.Rename(tmp, path); err != nil {
		return writeError{err}
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// duckReason is DuckDB's message on one line without the statement
// excerpt it appends ("LINE 1: CREATE VIEW ..."), for errors in marrow's
// own statements.
func duckReason(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\nLINE ")
	return oneLine(msg)
}

// shortDuration prints 10m rather than 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// CSVSafe neutralises a text cell that a spreadsheet would evaluate as a
// formula (leading = + - @ tab or CR) by prefixing a single quote (OWASP
// CSV injection advice). Numbers are never passed through it.
func CSVSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// oneLine folds DuckDB's multi-line messages (caret diagrams, hints) into
// the one-line reason the command line prints.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
