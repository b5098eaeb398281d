package pipeline

// What changed since the previous run (results/changes). A nightly run
// replaces the output of the night before; before it does, it compares
// itself with that output and writes one long-format table of what is
// different: rows per file, transplants added, removed and changed (by
// transplant_id and the warehouse's row_hash), quality flags, landmark
// estimates that moved more than their standard errors allow, and
// endpoints or strata that appeared or vanished. The table depends on the
// previous output, so it is reproducible given the same one (SPEC §4); a
// first run has none.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"marrow/internal/duck"
	"marrow/queries"
	"marrow/report"
)

// screeningZ is the z of the landmark screening rule: an estimate is listed
// when |new − old| > z·√(se_old² + se_new²), the normal 95% limit for the
// difference of two independent estimates, with the z of every 95%
// interval (Φ⁻¹(0.975), "1.96"). Consecutive runs share most of their
// transplants, so the two estimates are positively correlated and the
// true standard error of the difference is smaller: the rule lists fewer
// changes than a test would. It screens for what deserves a look; it is
// not a test, and with thousands of estimates some are listed by chance.
const screeningZ = 1.959963984540054

// MaxChange is the config's max_change: optional limits on what a run may
// change against the output it replaces, each a share between 0 and 1; a
// run beyond one fails (exit 1) before it publishes, and the previous
// output stays. Off (nil) by default; an absent key sets no limit.
//
//	max_change = { transplants_removed = 0.01 }   # an extract truncated upstream
type MaxChange struct {
	// TransplantsAdded, TransplantsRemoved and TransplantsChanged are
	// shares of the previous output's transplants.
	TransplantsAdded   *float64 `toml:"transplants_added" json:"transplants_added,omitempty"`
	TransplantsRemoved *float64 `toml:"transplants_removed" json:"transplants_removed,omitempty"`
	TransplantsChanged *float64 `toml:"transplants_changed" json:"transplants_changed,omitempty"`
	// Landmarks is a share of the landmark estimates screened (those both
	// outputs have with a standard error) that moved beyond the screening
	// limit.
	Landmarks *float64 `toml:"landmarks" json:"landmarks,omitempty"`
}

// changeLimit is one max_change key: count is the kind of the row whose
// new value counts the changes, of the kind of the row whose value is the
// denominator (old for transplants, new for landmarks_screened).
type changeLimit struct {
	key, count, of string
	max            *float64
}

func (m *MaxChange) limits() []changeLimit {
	return []changeLimit{
		{"transplants_added", "transplants_added", "transplants", m.TransplantsAdded},
		{"transplants_removed", "transplants_removed", "transplants", m.TransplantsRemoved},
		{"transplants_changed", "transplants_changed", "transplants", m.TransplantsChanged},
		{"landmarks", "landmark", "landmarks_screened", m.Landmarks},
	}
}

func (m *MaxChange) validate() error {
	if m == nil {
		return nil
	}
	for _, l := range m.limits() {
		if l.max != nil && !(*l.max >= 0 && *l.max <= 1) {
			return fmt.Errorf("max_change.%s %v: must be between 0 and 1", l.key, *l.max)
		}
	}
	return nil
}

// check returns an error naming the first limit the changes exceed.
func (m *MaxChange) check(rows []changeRow) error {
	if m == nil {
		return nil
	}
	for _, l := range m.limits() {
		if l.max == nil {
			continue
		}
		var n, of float64
		found := false
		for _, r := range rows {
			switch {
			case r.Kind == l.count && l.count == "landmark":
				n++
				found = true
			case r.Kind == l.count:
				n, found = r.New, true
			case r.Kind == l.of && l.of == "transplants":
				of = r.Old
			case r.Kind == l.of:
				of = r.New
			}
		}
		// The same relative tolerance as max_reject_rate: 1 in 100 passes
		// 0.01 whatever the rounding of 0.01·100.
		if !found || n == 0 || n <= *l.max*of*(1+1e-12) {
			continue
		}
		share := "all"
		if of > 0 {
			share = strconv.FormatFloat(100*n/of, 'f', 2, 64) + "%"
		}
		what := "transplants of the previous output"
		if l.of == "landmarks_screened" {
			what = "landmark estimates screened"
		}
		return fmt.Errorf("changes: %s %.0f of %.0f %s (%s), more than max_change.%s = %v: nothing published, the previous output is kept",
			l.key, n, of, what, share, l.key, *l.max)
	}
	return nil
}

// changeRow is one row of results/changes (columns in
// queries/results_schema.sql). An empty string, a NaN or a negative
// day or n is an empty (NULL) field.
type changeRow struct {
	Kind, Item                                      string
	Endpoint, TransplantType, DonorType, Indication string
	Day                                             int64
	Old, New                                        float64
	OldStdErr, NewStdErr                            float64
	OldN, NewN                                      int64
	Detail                                          string
	count                                           bool // Old and New are counts: written as integers
}

func newChangeRow(kind, item string) changeRow {
	nan := math.NaN()
	return changeRow{Kind: kind, Item: item, Day: -1, Old: nan, New: nan, OldStdErr: nan, NewStdErr: nan, OldN: -1, NewN: -1}
}

func countRow(kind, item string, old, new float64) changeRow {
	r := newChangeRow(kind, item)
	r.Old, r.New, r.count = old, new, true
	return r
}

// nullsLast compares as ORDER BY does: empty (NULL) after every value.
func nullsLast(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return strings.Compare(a, b)
}

// compareRows orders rows as changes.parquet: by kind, item, endpoint,
// stratum and day, NULLs last (a unique key).
func compareRows(a, b changeRow) int {
	for _, c := range [][2]string{{a.Kind, b.Kind}, {a.Item, b.Item}, {a.Endpoint, b.Endpoint},
		{a.TransplantType, b.TransplantType}, {a.DonorType, b.DonorType}, {a.Indication, b.Indication}} {
		if d := nullsLast(c[0], c[1]); d != 0 {
			return d
		}
	}
	switch {
	case a.Day == b.Day:
		return 0
	case a.Day < 0:
		return 1
	case b.Day < 0:
		return -1
	}
	return cmp.Compare(a.Day, b.Day)
}

var changesColumns = []string{"kind", "item", "endpoint", "transplant_type", "donor_type", "indication", "day",
	"old", "new", "old_std_err", "new_std_err", "old_n", "new_n", "detail"}

func changesTable(rows []changeRow) resultTable {
	return resultTable{
		name:    "changes",
		columns: changesColumns,
		orderBy: "kind, item, endpoint, transplant_type, donor_type, indication, day",
		parts:   1,
		emit: func(_ int, w rowSink) {
			for _, r := range rows {
				w.Str(r.Kind).Str(r.Item).Str(r.Endpoint).Str(r.TransplantType).Str(r.DonorType).Str(r.Indication)
				optInt(w, r.Day)
				if r.count {
					optInt(optInt(w, nanToNeg(r.Old)), nanToNeg(r.New))
				} else {
					w.Float(r.Old).Float(r.New)
				}
				optInt(optInt(w.Float(r.OldStdErr).Float(r.NewStdErr), r.OldN), r.NewN).Str(r.Detail).End()
			}
		},
	}
}

// optInt appends v, or an empty field when v < 0.
func optInt(w rowSink, v int64) rowSink {
	if v < 0 {
		return w.Str("")
	}
	return w.Int(v)
}

func nanToNeg(v float64) int64 {
	if math.IsNaN(v) {
		return -1
	}
	return int64(v)
}

// changes compares the run staged in staged/ (whose manifest-to-be is m)
// with the output it replaces, prev, and writes
// staged/results/changes.{csv,parquet}. A first run — prev is not a marrow
// output — writes none. A previous output that cannot be compared (files
// missing, or not those its manifest lists) is skipped with a warning: the
// run goes on and replaces it. A change beyond max_change fails the run.
func (s *session) changes(ctx context.Context, prev, staged string, m Manifest) error {
	return s.stage(ctx, "changes", func() ([]any, error) {
		rows, err := s.compareWith(ctx, prev, filepath.Join(staged, "results"), m)
		if err != nil || rows == nil {
			return []any{"previous", "none"}, err
		}
		if err := s.writeResults(ctx, filepath.Join(staged, "results"), queries.Text("results_schema"), []resultTable{changesTable(rows)}); err != nil {
			return nil, err
		}
		attrs := []any{}
		landmarks := 0
		for _, r := range rows {
			switch r.Kind {
			case "transplants_added", "transplants_removed", "transplants_changed":
				attrs = append(attrs, strings.TrimPrefix(r.Kind, "transplants_"), int64(r.New))
			case "landmark":
				landmarks++
			}
		}
		attrs = append(attrs, "landmarks_beyond_limit", landmarks)
		if err := s.cfg.MaxChange.check(rows); err != nil {
			// The stage logs nothing when it fails; say what changed.
			s.log.Warn("changes", attrs...)
			return nil, err
		}
		return attrs, nil
	})
}

// previousFiles are the files of the previous output that changes reads.
var previousFiles = []string{"warehouse/transplants.parquet", "warehouse/quality.parquet", "results/landmarks.parquet"}

// compareWith returns the rows of results/changes, sorted, or nil when
// there is no previous output to compare with.
func (s *session) compareWith(ctx context.Context, prev, results string, m Manifest) ([]changeRow, error) {
	manifestBytes, err := os.ReadFile(filepath.Join(prev, "manifest.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("changes: previous output: %w", err)
	}
	var pm Manifest
	if err := json.Unmarshal(manifestBytes, &pm); err != nil {
		s.log.Warn("changes: the previous output's manifest.json is unreadable: not compared", "out", prev, "err", err)
		return nil, nil
	}
	listed := map[string]string{}
	for _, f := range pm.Outputs {
		listed[f.Path] = f.SHA256
	}
	for _, f := range previousFiles {
		sum, err := fileSHA256(filepath.Join(prev, filepath.FromSlash(f)))
		if err != nil || sum != listed[f] {
			s.log.Warn("changes: the previous output's "+f+" is missing or not as its manifest lists: not compared", "out", prev)
			return nil, nil
		}
	}
	sum := sha256.Sum256(manifestBytes)
	previous := newChangeRow("previous", "manifest.json")
	previous.Detail = hex.EncodeToString(sum[:])
	rows := []changeRow{previous}
	rows = append(rows, settingChanges(pm, m)...)
	rows = append(rows, fileChanges(pm.Inputs, m.Inputs)...)

	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	hashed, err := s.previousViews(ctx, conn, prev, results)
	if err != nil {
		return nil, err
	}
	// Row hashes are DuckDB's hash(), fixed within one DuckDB version only.
	hashed = hashed && pm.DuckDB == m.DuckDB
	defer dropViews(context.WithoutCancel(ctx), conn)
	more, err := queryChanges(ctx, conn, hashed)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	rows = append(rows, more...)
	slices.SortFunc(rows, compareRows)
	return rows, nil
}

// changesViews are the temporary views compareWith reads: the previous
// output's tables and this run's, under one name each.
var changesViews = []string{"prev_transplants", "cur_transplants", "prev_quality", "prev_landmarks", "cur_landmarks"}

// previousViews creates the views of changesViews on conn and reports
// whether both sides have row hashes (an output of an older marrow has
// none).
func (s *session) previousViews(ctx context.Context, conn *sql.Conn, prev, results string) (bool, error) {
	parquet := func(rel string) string {
		return "read_parquet(" + duck.Literal(filepath.Join(prev, filepath.FromSlash(rel))) + ")"
	}
	prevHash, err := hasColumn(ctx, conn, parquet("warehouse/transplants.parquet"), "row_hash")
	if err != nil {
		return false, err
	}
	curHash, err := hasColumn(ctx, conn, "transplants", "row_hash")
	if err != nil {
		return false, err
	}
	hash := func(ok bool) string {
		if ok {
			return "row_hash"
		}
		return "CAST(NULL AS UBIGINT) AS row_hash"
	}
	// The sources are fixed table names and quoted literal paths.
	views := map[string]string{
		"prev_transplants": "SELECT transplant_id, " + hash(prevHash) + " FROM " + parquet("warehouse/transplants.parquet"),
		"cur_transplants":  "SELECT transplant_id, " + hash(curHash) + " FROM transplants",
		"prev_quality":     "SELECT flag, transplant_id FROM " + parquet("warehouse/quality.parquet"),
		"prev_landmarks":   "SELECT * FROM " + parquet("results/landmarks.parquet"),
		"cur_landmarks":    "SELECT * FROM read_parquet(" + duck.Literal(filepath.Join(results, "landmarks.parquet")) + ")",
	}
	for _, v := range changesViews {
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW "+v+" AS "+views[v]); err != nil {
			return false, fmt.Errorf("changes: previous output %s: %w", prev, err)
		}
	}
	return prevHash && curHash, nil
}

func dropViews(ctx context.Context, conn *sql.Conn) {
	for _, v := range changesViews {
		conn.ExecContext(ctx, "DROP VIEW IF EXISTS "+v)
	}
}

// hasColumn reports whether the relation from (a table name or a
// read_parquet call) has a column named col.
func hasColumn(ctx context.Context, conn *sql.Conn, from, col string) (bool, error) {
	rows, err := conn.QueryContext(ctx, "SELECT * FROM "+from+" LIMIT 0")
	if err != nil {
		return false, fmt.Errorf("changes: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	return slices.Contains(cols, col), err
}

// queryChanges runs the changes_*.sql statements over the views.
func queryChanges(ctx context.Context, conn *sql.Conn, hashed bool) ([]changeRow, error) {
	var rows []changeRow
	var prevN, curN, added, removed, changed int64
	if err := conn.QueryRowContext(ctx, queries.Text("changes_transplants")).Scan(&prevN, &curN, &added, &removed, &changed); err != nil {
		return nil, fmt.Errorf("transplants: %w", err)
	}
	rows = append(rows, countRow("transplants", "", float64(prevN), float64(curN)))
	for _, c := range []struct {
		kind string
		n    int64
	}{{"transplants_added", added}, {"transplants_removed", removed}, {"transplants_changed", changed}} {
		if c.kind == "transplants_changed" && !hashed {
			continue
		}
		rows = append(rows, countRow(c.kind, "", math.NaN(), float64(c.n)))
	}

	err := scanRows(ctx, conn, queries.Text("changes_quality"), nil, func(r *sql.Rows) error {
		var flag string
		var old, cur, fresh int64
		if err := r.Scan(&flag, &old, &cur, &fresh); err != nil {
			return err
		}
		rows = append(rows, countRow("quality_flags", flag, float64(old), float64(cur)))
		if fresh > 0 {
			rows = append(rows, countRow("quality_flags_new", flag, math.NaN(), float64(fresh)))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}

	screened := 0
	err = scanRows(ctx, conn, queries.Text("changes_landmarks"), []any{screeningZ}, func(r *sql.Rows) error {
		c := newChangeRow("landmark", "")
		var beyond bool
		if err := r.Scan(&c.Endpoint, &c.TransplantType, &c.DonorType, &c.Indication, &c.Day,
			&c.OldN, &c.NewN, &c.Old, &c.New, &c.OldStdErr, &c.NewStdErr, &beyond); err != nil {
			return err
		}
		screened++
		if beyond {
			rows = append(rows, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("landmarks: %w", err)
	}
	rows = append(rows, countRow("landmarks_screened", "", math.NaN(), float64(screened)))

	err = scanRows(ctx, conn, queries.Text("changes_strata"), nil, func(r *sql.Rows) error {
		var what, ep string
		var tt, dt, ind sql.NullString
		var oldN, newN sql.NullInt64
		if err := r.Scan(&what, &ep, &tt, &dt, &ind, &oldN, &newN); err != nil {
			return err
		}
		c := newChangeRow(what, "")
		c.Endpoint, c.TransplantType, c.DonorType, c.Indication = ep, tt.String, dt.String, ind.String
		if oldN.Valid {
			c.OldN = oldN.Int64
		}
		if newN.Valid {
			c.NewN = newN.Int64
		}
		rows = append(rows, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("strata: %w", err)
	}
	return rows, nil
}

// scanRows runs a row-returning query on conn and calls fn for each row.
func scanRows(ctx context.Context, conn *sql.Conn, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// settingChanges lists the settings that differ between the previous
// manifest and this run's: cutoff, versions and every config key (as
// recorded in manifest.json), each as "old -> new" in JSON.
func settingChanges(old, cur Manifest) []changeRow {
	flat := func(m Manifest) map[string]string {
		out := map[string]string{
			"cutoff":         jsonText(m.Cutoff),
			"marrow_version": jsonText(m.Marrow),
			"duckdb_version": jsonText(m.DuckDB),
		}
		var cfg map[string]json.RawMessage
		b, _ := json.Marshal(m.Config)
		json.Unmarshal(b, &cfg)
		for k, v := range cfg {
			var c bytes.Buffer
			json.Compact(&c, v)
			out["config."+k] = c.String()
		}
		return out
	}
	a, b := flat(old), flat(cur)
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var rows []changeRow
	for _, k := range keys {
		if a[k] == b[k] {
			continue
		}
		r := newChangeRow("setting", k)
		r.Detail = orAbsent(a[k]) + " -> " + orAbsent(b[k])
		rows = append(rows, r)
	}
	return rows
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func orAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

// fileChanges compares the rows read, accepted and rejected of each input
// file, by name; a file on one side only has the other side empty.
func fileChanges(old, cur []InputFile) []changeRow {
	files := map[string][2]*InputFile{}
	for i := range old {
		p := files[old[i].Path]
		p[0] = &old[i]
		files[old[i].Path] = p
	}
	for i := range cur {
		p := files[cur[i].Path]
		p[1] = &cur[i]
		files[cur[i].Path] = p
	}
	var rows []changeRow
	for name, p := range files {
		for _, k := range []struct {
			kind string
			get  func(*InputFile) int64
		}{
			{"rows_read", func(f *InputFile) int64 { return f.RowsRead }},
			{"rows_accepted", func(f *InputFile) int64 { return f.RowsAccepted }},
			{"rows_rejected", func(f *InputFile) int64 { return f.RowsRejected }},
		} {
			r := countRow(k.kind, name, math.NaN(), math.NaN())
			if p[0] != nil {
				r.Old = float64(k.get(p[0]))
			}
			if p[1] != nil {
				r.New = float64(k.get(p[1]))
			}
			rows = append(rows, r)
		}
	}
	return rows // sorted by the caller
}

// changesData reads results/changes.parquet of an output's results
// directory into the report's form; nil when there is none (a first run).
func (s *session) changesData(ctx context.Context, results string) (*report.Changes, error) {
	path := filepath.Join(results, "changes.parquet")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// The path is a quoted literal.
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW changes_file AS SELECT * FROM read_parquet("+duck.Literal(path)+")"); err != nil {
		return nil, fmt.Errorf("report: results/changes.parquet: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS changes_file")
	c := &report.Changes{}
	files := map[string]*report.FileChange{}
	var fileOrder []string
	err = scanRows(ctx, conn, queries.Text("changes_read"), nil, func(r *sql.Rows) error {
		var kind string
		var item, ep, tt, dt, ind, detail sql.NullString
		var day, oldN, newN sql.NullInt64
		var old, cur, oldSE, newSE sql.NullFloat64
		if err := r.Scan(&kind, &item, &ep, &tt, &dt, &ind, &day, &old, &cur, &oldSE, &newSE, &oldN, &newN, &detail); err != nil {
			return err
		}
		st := report.Stratum{TransplantType: tt.String, DonorType: dt.String, Indication: ind.String}
		count := func(v sql.NullFloat64) int { return int(v.Float64) }
		switch kind {
		case "setting":
			o, n, _ := strings.Cut(detail.String, " -> ")
			c.Settings = append(c.Settings, report.SettingChange{Name: item.String, Old: o, New: n})
		case "rows_read", "rows_accepted", "rows_rejected":
			f := files[item.String]
			if f == nil {
				f = &report.FileChange{File: item.String, InOld: old.Valid, InNew: cur.Valid}
				files[item.String] = f
				fileOrder = append(fileOrder, item.String)
			}
			switch kind {
			case "rows_read":
				f.Old.RowsRead, f.New.RowsRead = count(old), count(cur)
			case "rows_accepted":
				f.Old.RowsAccepted, f.New.RowsAccepted = count(old), count(cur)
			case "rows_rejected":
				f.Old.RowsRejected, f.New.RowsRejected = count(old), count(cur)
			}
		case "transplants_added":
			c.Transplants.Added = count(cur)
		case "transplants_removed":
			c.Transplants.Removed = count(cur)
		case "transplants_changed":
			c.Transplants.Changed, c.Transplants.Hashed = count(cur), true
		case "quality_flags_new":
			c.NewFlags = append(c.NewFlags, report.FlagCount{Flag: item.String, Count: count(cur)})
		case "landmarks_screened":
			c.Screened = count(cur)
		case "landmark":
			c.Landmarks = append(c.Landmarks, report.LandmarkChange{Endpoint: ep.String, Stratum: st, Day: int(day.Int64),
				OldN: int(oldN.Int64), NewN: int(newN.Int64), Old: old.Float64, New: cur.Float64,
				OldStdErr: nullNaN(oldSE), NewStdErr: nullNaN(newSE)})
		case "endpoint_appeared":
			c.EndpointsAppeared = append(c.EndpointsAppeared, ep.String)
		case "endpoint_vanished":
			c.EndpointsVanished = append(c.EndpointsVanished, ep.String)
		case "stratum_appeared":
			c.StrataAppeared = append(c.StrataAppeared, report.StratumChange{Endpoint: ep.String, Stratum: st})
		case "stratum_vanished":
			c.StrataVanished = append(c.StrataVanished, report.StratumChange{Endpoint: ep.String, Stratum: st})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("report: results/changes.parquet: %w", err)
	}
	for _, name := range fileOrder {
		c.Files = append(c.Files, *files[name])
	}
	return c, nil
}
