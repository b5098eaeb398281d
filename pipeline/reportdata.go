package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"marrow/estimate"
	"marrow/queries"
	"marrow/report"
	"marrow/transforms"
)

// report writes dir/report/ from the session's estimates. When the session
// has none (marrow report on an existing output), it loads the warehouse of
// dir, cohort included, and estimates again: the arithmetic is
// deterministic, so the numbers equal those in dir/results.
func (s *session) report(ctx context.Context, dir string, m Manifest) error {
	return s.stage(ctx, "report", func() ([]any, error) {
		// The estimate stage's curves writes read the curves the report
		// compacts: they must have ended.
		if err := s.awaitWrites(); err != nil {
			return nil, err
		}
		if s.est == nil {
			tables := append(append([]string{}, transforms.WarehouseTables...), "cohort")
			sum, err := transforms.LoadWarehouse(ctx, s.db, filepath.Join(dir, "warehouse"), tables...)
			if err != nil {
				return nil, badInput(fmt.Errorf("report: %w", err))
			}
			s.summary = sum
			// The analyses and the report read the cohort with its
			// transplant columns (cohort_wide), as derive leaves it.
			if _, err := s.db.ExecContext(ctx, transforms.WidenCohortSQL()); err != nil {
				return nil, fmt.Errorf("report: cohort: %w", err)
			}
			if _, err := s.computeEstimates(ctx); err != nil {
				return nil, err
			}
			if err := s.computeAnalyses(ctx); err != nil {
				return nil, err
			}
		}
		start := time.Now()
		s.compactAll()
		s.step("compact curves", start)
		start = time.Now()
		d, err := s.reportData(ctx, m)
		if err != nil {
			return nil, err
		}
		s.step("report data", start)
		start = time.Now()
		if d.Changes, err = s.changesData(ctx, filepath.Join(dir, "results")); err != nil {
			return nil, err
		}
		if d.Centres, err = centresReport(filepath.Join(dir, "results"), s.cfg.MinCentre); err != nil {
			return nil, err
		}
		s.step("report changes and centres", start)
		start = time.Now()
		if err := report.Write(filepath.Join(dir, "report"), d); err != nil {
			return nil, err // report.Write's errors begin "report: "
		}
		s.step("write report", start)
		return []any{"endpoints", len(d.Endpoints)}, nil
	})
}

// reportData assembles the report's input: aggregates and estimates only,
// never an identifier, date or free-text detail (report.Data has no field
// that could hold one).
func (s *session) reportData(ctx context.Context, m Manifest) (*report.Data, error) {
	d := &report.Data{
		Title:         "marrow registry outcomes",
		Cutoff:        m.Cutoff,
		MarrowVersion: m.Marrow,
		DuckDBVersion: m.DuckDB,
		Warnings:      m.Warnings,
		Config: report.Config{
			Landmarks:     s.cfg.Landmarks,
			ConfType:      s.cfg.ConfType,
			MinCell:       s.cfg.MinCell,
			MinGroup:      s.cfg.MinGroup,
			Cohort:        s.cfg.Cohort,
			MaxRejectRate: s.cfg.MaxRejectRate,
		},
	}
	if m.SourceDate != "" {
		if sec, err := parseEpoch(m.SourceDate); err == nil {
			d.GeneratedAt = time.Unix(sec, 0).UTC().Format(time.RFC3339)
		}
	}
	if err := s.ingestData(ctx, d); err != nil {
		return nil, err
	}
	if err := s.summaryData(ctx, d); err != nil {
		return nil, err
	}
	if err := s.flowData(ctx, d, m.Cutoff); err != nil {
		return nil, err
	}
	if err := s.followUpData(ctx, d, m.Cutoff); err != nil {
		return nil, err
	}
	s.endpointData(d)
	s.analysisData(d)
	return d, nil
}

func (s *session) ingestData(ctx context.Context, d *report.Data) error {
	if s.summary != nil {
		for _, f := range s.summary.Files {
			d.Ingest.Files = append(d.Ingest.Files, report.FileCount{File: f.File, RowsRead: int(f.RowsRead),
				RowsAccepted: int(f.RowsAccepted), RowsRejected: int(f.RowsRejected), UnknownColumns: f.UnknownColumns})
		}
	}
	err := s.scan(ctx, queries.Text("rejects_by_reason"), nil, func(r *sql.Rows) error {
		var c report.RejectCount
		if err := r.Scan(&c.File, &c.Column, &c.Reason, &c.Count); err != nil {
			return err
		}
		d.Ingest.Rejects = append(d.Ingest.Rejects, c)
		return nil
	})
	if err != nil {
		return err
	}
	err = s.scan(ctx, queries.Text("quality_by_flag"), nil, func(r *sql.Rows) error {
		var c report.FlagCount
		if err := r.Scan(&c.Flag, &c.Count); err != nil {
			return err
		}
		d.Ingest.Quality = append(d.Ingest.Quality, c)
		return nil
	})
	if err != nil {
		return err
	}
	byFlag := map[string]int{}
	for i, f := range d.Ingest.Quality {
		byFlag[f.Flag] = i
	}
	return s.scan(ctx, queries.Text("quality_by_flag_centre"), nil, func(r *sql.Rows) error {
		var flag string
		var c report.CentreCount
		if err := r.Scan(&flag, &c.Centre, &c.Count); err != nil {
			return err
		}
		if i, ok := byFlag[flag]; ok && c.Centre != "" {
			d.Ingest.Quality[i].Centres = append(d.Ingest.Quality[i].Centres, c)
		}
		return nil
	})
}

// flowData counts how the accepted transplants become the cohort.
func (s *session) flowData(ctx context.Context, d *report.Data, cutoff string) error {
	return s.scan(ctx, queries.Text("cohort_flow"), []any{cutoff}, func(r *sql.Rows) error {
		f := &d.Flow
		if err := r.Scan(&f.Accepted, &f.AfterCutoff, &f.Later, &f.Analysed); err != nil {
			return err
		}
		f.Known = true
		return nil
	})
}

// summaryColumns are the summary table's columns: all, then each type.
var summaryColumns = []struct{ key, label string }{{"*", "All"}, {"ALLO", "ALLO"}, {"AUTO", "AUTO"}}

// summaryVariables are the characteristics shown, in display order.
var summaryVariables = []struct{ key, label string }{
	{"indication", "Indication"}, {"donor_type", "Donor type"}, {"sex", "Sex"},
	{"conditioning", "Conditioning"}, {"graft_source", "Graft source"}, {"disease_status", "Disease status"},
}

func (s *session) summaryData(ctx context.Context, d *report.Data) error {
	type ageRow struct {
		n, known            int
		med, lo, hi, q1, q3 sql.NullFloat64
	}
	ages := map[string]ageRow{}
	err := s.scan(ctx, queries.Text("summary_age"), nil, func(r *sql.Rows) error {
		var tt string
		var a ageRow
		if err := r.Scan(&tt, &a.n, &a.known, &a.med, &a.lo, &a.hi, &a.q1, &a.q3); err != nil {
			return err
		}
		ages[tt] = a
		return nil
	})
	if err != nil {
		return err
	}
	var cols []string
	for _, c := range summaryColumns {
		a, ok := ages[c.key]
		if !ok || a.n == 0 {
			continue
		}
		cols = append(cols, c.key)
		d.Summary.Columns = append(d.Summary.Columns, c.label)
		d.Summary.N = append(d.Summary.N, a.n)
		d.Summary.Age = append(d.Summary.Age, report.AgeSummary{Known: a.known,
			Median: nullNaN(a.med), Min: nullNaN(a.lo), Max: nullNaN(a.hi), Q1: nullNaN(a.q1), Q3: nullNaN(a.q3)})
	}
	levels := map[string][]report.Level{}
	levelIndex := map[string]int{}
	err = s.scan(ctx, queries.Text("summary_levels"), nil, func(r *sql.Rows) error {
		var variable, level, tt string
		var n int
		if err := r.Scan(&variable, &level, &tt, &n); err != nil {
			return err
		}
		col := -1
		for i, c := range cols {
			if c == tt {
				col = i
			}
		}
		if col < 0 {
			return nil
		}
		key := variable + "\x00" + level
		i, ok := levelIndex[key]
		if !ok {
			i = len(levels[variable])
			levelIndex[key] = i
			levels[variable] = append(levels[variable], report.Level{Label: level, Counts: make([]int, len(cols))})
		}
		levels[variable][i].Counts[col] = n
		return nil
	})
	if err != nil {
		return err
	}
	for _, v := range summaryVariables {
		if len(levels[v.key]) > 0 {
			d.Summary.Variables = append(d.Summary.Variables, report.Variable{Name: v.label, Levels: levels[v.key]})
		}
	}
	return nil
}

// followUpData gives the median follow-up by the reverse Kaplan–Meier
// method — the os risk table with the roles of death and censoring swapped
// — and the follow-up completeness at one year.
func (s *session) followUpData(ctx context.Context, d *report.Data, cutoff string) error {
	complete := map[string][2]int{}
	err := s.scan(ctx, queries.Text("followup_completeness"), []any{cutoff}, func(r *sql.Rows) error {
		var tt string
		var e, c int
		if err := r.Scan(&tt, &e, &c); err != nil {
			return err
		}
		complete[tt] = [2]int{e, c}
		return nil
	})
	if err != nil {
		return err
	}
	for _, col := range summaryColumns {
		t := s.est.table("os", col.key, "*", "*")
		if t == nil {
			continue
		}
		fu := report.FollowUp{TransplantType: col.key, N: int(t.Rows[0].NRisk),
			Median: math.NaN(), Lower: math.NaN(), Upper: math.NaN(), Q1: math.NaN(), Q3: math.NaN(),
			Eligible: complete[col.key][0], Complete: complete[col.key][1]}
		rev := make([]estimate.RiskRow, len(t.Rows))
		for i, r := range t.Rows {
			rev[i] = estimate.RiskRow{Time: r.Time, NRisk: r.NRisk, NEvent: r.NCensor, NCensor: r.NEvent + r.NCompete}
		}
		conf, _ := estimate.ParseConfType(s.cfg.ConfType)
		if c, err := estimate.NewKaplanMeier(rev, conf); err == nil {
			if m, err := c.Median(); err == nil {
				fu.Median, fu.Lower, fu.Upper = m.Median, m.Lower, m.Upper
			}
			fu.Q1, fu.Q3 = firstAtOrBelow(c, 0.75), firstAtOrBelow(c, 0.25)
		}
		d.FollowUp = append(d.FollowUp, fu)
	}
	return nil
}

// endpointData copies the estimates into the report, endpoint by endpoint
// in SPEC order.
func (s *session) endpointData(d *report.Data) {
	for _, info := range s.eps {
		ep := report.Endpoint{Name: info.Name, Label: info.Label, Estimator: report.EstimatorOf(info),
			Definition: info.Definition, Horizon: info.Horizon}
		for i, t := range s.est.tables {
			if t.Endpoint != info.Name {
				continue
			}
			c := s.est.curves[i]
			st := report.Stratum{TransplantType: t.Groups[0], DonorType: t.Groups[1], Indication: t.Groups[2]}
			rc := report.Curve{Stratum: st, N: int(c.N), Points: s.est.views[i].points}
			ep.Curves = append(ep.Curves, rc)
			for _, day := range s.cfg.Landmarks {
				l := s.est.at(i, day)
				ep.Landmarks = append(ep.Landmarks, report.Landmark{Stratum: st, Day: day, N: int(l.N), NRisk: int(l.NRisk),
					NEvents: int(l.NEvents), Estimate: l.Estimate, StdErr: l.StdErr, Lower: l.Lower, Upper: l.Upper})
			}
			if info.KM() {
				if m, err := s.est.median(i); err == nil {
					ep.Medians = append(ep.Medians, report.Median{Stratum: st, N: int(c.N), Median: m.Median, Lower: m.Lower, Upper: m.Upper})
				}
			}
		}
		for _, t := range s.est.tests {
			if t.Endpoint == info.Name {
				ep.Tests = append(ep.Tests, report.Test{Comparison: t.Comparison, Within: t.Within,
					Statistic: t.Statistic, DF: t.DF, PValue: t.PValue, Method: t.Method, Excluded: t.Excluded})
			}
		}
		d.Endpoints = append(d.Endpoints, ep)
	}
}

// firstAtOrBelow is the first time a Kaplan–Meier curve falls to p or
// below (a quartile of the reverse Kaplan–Meier follow-up), NaN if never.
func firstAtOrBelow(c *estimate.Curve, p float64) float64 {
	for _, pt := range c.Points {
		if pt.Estimate <= p+1e-12 {
			return float64(pt.Time)
		}
	}
	return math.NaN()
}

// table returns the risk table of endpoint in the stratum of groups, or nil.
func (est *estimates) table(endpoint string, groups ...string) *riskTable {
	for i := range est.tables {
		if t := &est.tables[i]; t.Endpoint == endpoint && slices.Equal(t.Groups, groups) {
			return t
		}
	}
	return nil
}

// scan runs a row-returning query and calls fn for each row.
func (s *session) scan(ctx context.Context, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("report query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func nullNaN(f sql.NullFloat64) float64 {
	if !f.Valid {
		return math.NaN()
	}
	return f.Float64
}

func parseEpoch(s string) (int64, error) {
	var sec int64
	_, err := fmt.Sscan(s, &sec)
	return sec, err
}

// plotBucket is the width in days of the buckets reportPoints keeps two
// points of. Every x-axis tick of the report is a multiple of it (5, 10,
// ..., 100 days or whole years of 365), so numbers at risk under the ticks
// stay exact.
const plotBucket = 5

// reportPoints are a curve's points as the report draws them, shrunk for
// drawing at registry scale: points after the first one at or past end are
// never drawn; within each 5-day bucket only the first point (exact number
// at risk at the bucket start) and the last (the level the bucket ends at)
// are kept. Short curves are kept whole. Only the points kept are
// converted.
func reportPoints(ps []estimate.Point, end int) []report.Point {
	conv := func(p estimate.Point) report.Point {
		return report.Point{Time: int(p.Time), NRisk: int(p.NRisk), NEvent: int(p.NEvent),
			Estimate: p.Estimate, Lower: p.Lower, Upper: p.Upper}
	}
	if len(ps) <= 400 {
		var out []report.Point
		for _, p := range ps {
			out = append(out, conv(p))
		}
		return out
	}
	out := make([]report.Point, 0, 512)
	for i, p := range ps {
		b := int(p.Time) / plotBucket
		first := i == 0 || int(ps[i-1].Time)/plotBucket != b
		last := i == len(ps)-1 || int(ps[i+1].Time)/plotBucket != b
		if first || last {
			out = append(out, conv(p))
		}
		if int(p.Time) >= end {
			break
		}
	}
	return out
}

// plotEnd is the last day a figure can show: the endpoint's horizon or the
// largest landmark, rounded up to whole years.
func plotEnd(horizon int, landmarks []int) int {
	end := horizon
	if end == 0 && len(landmarks) > 0 {
		end = landmarks[len(landmarks)-1]
	}
	return (end + 364) / 365 * 365
}
