package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"marrow/centre"
	"marrow/internal/duck"
	"marrow/queries"
)

// centreCovariates are the case-mix columns of centre_cohort.sql, in the
// model's order.
var centreCovariates = []string{"age", "indication", "disease_status", "donor_type", "graft_source",
	"conditioning", "karnofsky", "hct_ci", "sex", "transplant_year"}

// centreDay is the benchmark's landmark (SPEC §6: 1-year outcomes).
const centreDay = 365

// centreModel is one benchmark: a transplant type and an endpoint.
type centreModel struct {
	typ string
	ep  centre.Endpoint
	res *centre.Result
}

// centres runs the centre benchmark of SPEC §6 and writes results/centres
// and results/centre_model, unless the config turns it off or no
// transplant has a center_id. A risk model that cannot be fitted fails the
// run, naming the model.
func (s *session) centres(ctx context.Context, dir string, cutoff time.Time) error {
	if !s.cfg.Centres {
		return nil
	}
	return s.stage(ctx, "centres", func() ([]any, error) {
		start := time.Now()
		cohorts, err := s.readCentreCohorts(ctx, cutoff)
		if err != nil {
			return nil, err
		}
		s.step("centre cohort", start)
		start = time.Now()
		if cohorts == nil {
			return []any{"skipped", "no center_id"}, nil
		}
		var models []*centreModel
		for _, typ := range []string{"ALLO", "AUTO"} {
			if cohorts[typ] == nil {
				continue
			}
			for _, ep := range []centre.Endpoint{centre.NRM, centre.OS} {
				models = append(models, &centreModel{typ: typ, ep: ep})
			}
		}
		// The four models are independent; each is deterministic. As many
		// run at once as there are cores: more would not be faster, and
		// each holds its own working arrays (at 5M transplants four at
		// once took the run's peak RSS from 3.1 to 4.0 GB).
		errs := make([]error, len(models))
		var wg sync.WaitGroup
		slots := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
		for i, m := range models {
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				c := cohorts[m.typ]
				in := centre.Cohort{Centre: c.centre, OSTime: c.osTime, OSStatus: c.osStatus, Covariates: c.covariates, Pattern: c.pattern}
				if m.ep.Incidence {
					in.Time, in.Status = c.nrmTime, c.nrmStatus
				} else {
					in.Time, in.Status = c.osTime, c.osStatus
				}
				t0 := time.Now()
				m.res, errs[i] = centre.Benchmark(in, m.ep, centre.Options{Day: centreDay, MinCentre: s.cfg.MinCentre}, m.typ+" "+m.ep.Name)
				if errs[i] == nil && m.res.Fit != nil {
					s.step("centre model "+m.typ+" "+m.ep.Name, t0, "transplants", len(in.Time), "iterations", m.res.Fit.Iter)
				}
			})
		}
		wg.Wait()
		// The cohort's columns (a few hundred MB at registry scale) are
		// no longer needed: give their memory back before the tables are
		// written and the report runs.
		cohorts = nil
		debug.FreeOSMemory()
		s.step("centre models", start)
		start = time.Now()
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
		if err := s.writeResults(ctx, dir, queries.Text("centres_schema"), centreTables(models)); err != nil {
			return nil, err
		}
		s.centresWritten = true
		if err := s.writeResultsDictionary(ctx, dir); err != nil {
			return nil, err
		}
		s.step("centre tables", start)
		rows := 0
		for _, m := range models {
			rows += len(m.res.Centres)
		}
		return []any{"models", len(models), "rows", rows}, nil
	})
}

// centreCohort is one transplant type's benchmark cohort, column by column.
type centreCohort struct {
	centre              []string
	osTime, nrmTime     []int64
	osStatus, nrmStatus []int8
	covariates          []centre.Covariate
	pattern             []int32 // centre.CovariatePatterns of covariates: its models share them
}

// Band labels of the case-mix covariates (lower edge included): age <18,
// 18-39, 40-59, 60-69, 70+; Karnofsky <80, 80-89, 90+; HCT-CI 0, 1-2, 3+;
// transplant year in five-year periods 2010-2014, 2015-2019, ... A missing
// value is the level MISSING; an AUTO transplant's donor type is NONE.
// testdata/r/centres.R bands the raw values the same way, independently.
var (
	ageBands       = []string{centre.Missing, "<18", "18-39", "40-59", "60-69", "70+"}
	karnofskyBands = []string{centre.Missing, "<80", "80-89", "90+"}
	hctCIBands     = []string{centre.Missing, "0", "1-2", "3+"}
)

func ageBand(a float64) uint16 {
	switch {
	case a < 18:
		return 1
	case a < 40:
		return 2
	case a < 60:
		return 3
	case a < 70:
		return 4
	}
	return 5 // NaN too, as SQL's comparisons put it above every number
}

func karnofskyBand(k int64) uint16 {
	switch {
	case k < 80:
		return 1
	case k < 90:
		return 2
	}
	return 3
}

func hctCIBand(h int64) uint16 {
	switch {
	case h == 0:
		return 1
	case h <= 2:
		return 2
	}
	return 3
}

// levelCodes numbers the distinct labels of one covariate as they come.
// A covariate has a handful of levels, met again on every row: a small
// table in front of the map, indexed by a hash of the label's bytes,
// answers most lookups with one short comparison.
type levelCodes struct {
	index  map[string]uint16
	labels []string
	recent [256]struct {
		label string
		code  uint16
		set   bool
	}
}

func (l *levelCodes) code(label string) (uint16, error) {
	slot := uint8(len(label))
	for i := 0; i < len(label); i++ {
		slot = slot*31 + label[i]
	}
	if r := &l.recent[slot]; r.set && r.label == label {
		return r.code, nil
	}
	c, ok := l.index[label]
	if !ok {
		if len(l.labels) == math.MaxUint16 {
			return 0, fmt.Errorf("too many levels")
		}
		label = strings.Clone(label)
		c = uint16(len(l.labels))
		if l.index == nil {
			l.index = map[string]uint16{}
		}
		l.index[label] = c
		l.labels = append(l.labels, label)
	}
	l.recent[slot].label, l.recent[slot].code, l.recent[slot].set = l.labels[c], c, true
	return c, nil
}

// centreRow is one transplant of the benchmark cohort, held at its
// position in cohort_wide until every row is read.
type centreRow struct {
	osTime, nrmTime     int64
	centre              int32 // code in centres; -1: no center_id
	osStatus, nrmStatus int8
	typ                 int8 // code in types; -1: not in the benchmark cohort
	cov                 [10]uint16
}

// readCentreCohorts reads the benchmark cohort (centre_cohort.sql) by
// transplant type, in transplant_id order within each type, with the
// covariates banded and coded. nil when no benchmark transplant has a
// center_id.
//
// The query reads each row's position in cohort_wide, whose rows are in
// transplant_id order (cohort.sql.tmpl's ORDER BY, kept in the table under
// preserve_insertion_order): rows are put back at their positions, so the
// models see the transplants in the same order, and sum in the same order,
// whatever order DuckDB's threads return them in, with no sort.
// centreSlice is how many of cohort_wide's rows one centre-cohort query
// reads (a variable for the tests).
var centreSlice int64 = 1 << 20

func (s *session) readCentreCohorts(ctx context.Context, cutoff time.Time) (map[string]*centreCohort, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var ordered bool
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT CAST(current_setting('preserve_insertion_order') AS BOOLEAN), (SELECT count(*) FROM cohort_wide)").Scan(&ordered, &n); err != nil {
		return nil, fmt.Errorf("centre cohort: %w", err)
	}
	if !ordered {
		return nil, fmt.Errorf("centre cohort: needs DuckDB's preserve_insertion_order (cohort rows in transplant_id order)")
	}
	rows := make([]centreRow, n)
	for i := range rows {
		rows[i].typ = -1
	}
	var types, centres levelCodes
	// Per covariate: the labels of its codes. The banded ones have fixed
	// codes; the others are numbered as they come.
	var levels [10]levelCodes
	for k, bands := range map[int][]string{0: ageBands, 6: karnofskyBands, 7: hctCIBands} {
		for _, b := range bands {
			levels[k].code(b)
		}
	}
	years := map[int64]uint16{}
	noneCode, _ := levels[3].code("NONE")
	// Each batch is decoded on another goroutine while DuckDB converts the
	// next one to Arrow.
	feed, wait := duck.Overlapped(func(rec arrow.RecordBatch) error {
		col := arrowColumn(rec, "centre_cohort.sql")
		pos := col("pos").(*array.Int64)
		tt := col("transplant_type").(*array.String)
		cid := col("center_id").(*array.String)
		ot, os := col("os_time").(*array.Int64), col("os_status").(*array.Int64)
		nt, ns := col("nrm_time").(*array.Int64), col("nrm_status").(*array.Int64)
		age := col("age_years").(*array.Float64)
		kps, hct, year := col("karnofsky").(*array.Int64), col("hct_ci").(*array.Int64), col("year").(*array.Int64)
		// The labelled covariates, by their index in centreCovariates.
		strs := [...]struct {
			k int
			a *array.String
		}{
			{1, col("indication").(*array.String)}, {2, col("disease_status").(*array.String)},
			{3, col("donor_type").(*array.String)}, {4, col("graft_source").(*array.String)},
			{5, col("conditioning").(*array.String)}, {8, col("sex").(*array.String)},
		}
		lastType, lastCode := "", uint16(0)
		for i := 0; i < int(rec.NumRows()); i++ {
			p := pos.Value(i)
			if p < 0 || p >= n || rows[p].typ >= 0 {
				return fmt.Errorf("centre cohort: row position %d out of range or repeated", p)
			}
			r := &rows[p]
			typ := tt.Value(i)
			if typ != lastType || len(types.labels) == 0 {
				c, err := types.code(typ)
				if err != nil {
					return fmt.Errorf("centre cohort: transplant types: %w", err)
				}
				lastType, lastCode = types.labels[c], c
			}
			if lastCode > math.MaxInt8 {
				return fmt.Errorf("centre cohort: too many transplant types")
			}
			r.typ = int8(lastCode)
			r.centre = -1
			if cid.IsValid(i) && cid.Value(i) != "" {
				c, err := centres.code(cid.Value(i))
				if err != nil {
					return fmt.Errorf("centre cohort: centres: %w", err)
				}
				r.centre = int32(c)
			}
			r.osTime, r.osStatus = ot.Value(i), int8(os.Value(i))
			r.nrmTime, r.nrmStatus = nt.Value(i), int8(ns.Value(i))
			if age.IsValid(i) {
				r.cov[0] = ageBand(age.Value(i))
			}
			if kps.IsValid(i) {
				r.cov[6] = karnofskyBand(kps.Value(i))
			}
			if hct.IsValid(i) {
				r.cov[7] = hctCIBand(hct.Value(i))
			}
			y := year.Value(i) / 5 * 5
			yc, ok := years[y]
			if !ok {
				c, err := levels[9].code(strconv.FormatInt(y, 10) + "-" + strconv.FormatInt(y+4, 10))
				if err != nil {
					return fmt.Errorf("centre covariate %s: %w", centreCovariates[9], err)
				}
				years[y], yc = c, c
			}
			r.cov[9] = yc
			for _, sc := range strs {
				label := centre.Missing
				if sc.a.IsValid(i) {
					label = sc.a.Value(i)
				}
				c, err := levels[sc.k].code(label)
				if err != nil {
					return fmt.Errorf("centre covariate %s: %w", centreCovariates[sc.k], err)
				}
				r.cov[sc.k] = c
			}
			if typ == "AUTO" {
				r.cov[3] = noneCode
			}
		}
		return nil
	})
	// In slices of cohort_wide's rows: DuckDB materializes a result before
	// it hands it over as Arrow, and all 4.8 M rows of a 5M registry at
	// once (with eight text columns) took the run's peak RSS to 4.0 GB.
	for lo := int64(0); lo < n && err == nil; lo += centreSlice {
		err = duck.QueryArrow(ctx, conn, feed, queries.Text("centre_cohort"), cutoff, lo, lo+centreSlice)
	}
	if werr := wait(); werr != nil {
		err = werr
	}
	if err != nil {
		return nil, fmt.Errorf("centre cohort: %w", err)
	}
	if len(centres.labels) == 0 {
		return nil, nil
	}

	// Per type, in position (transplant_id) order, one goroutine a type:
	// the columns, each covariate's codes renumbered over the levels the
	// type has (a model's levels are its own type's), and the covariate
	// patterns its two models share.
	out := map[string]*centreCohort{}
	byType := make([]*centreCohort, len(types.labels))
	for t, typ := range types.labels {
		byType[t] = &centreCohort{}
		out[typ] = byType[t]
	}
	errs := make([]error, len(types.labels))
	var wg sync.WaitGroup
	for t, c := range byType {
		wg.Go(func() {
			errs[t] = c.fill(rows, int8(t), &centres, &levels)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// fill sets c to the rows of type typ, in order.
func (c *centreCohort) fill(rows []centreRow, typ int8, centres *levelCodes, levels *[10]levelCodes) error {
	n := 0
	for i := range rows {
		if rows[i].typ == typ {
			n++
		}
	}
	c.centre, c.osTime, c.nrmTime = make([]string, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	c.osStatus, c.nrmStatus = make([]int8, 0, n), make([]int8, 0, n)
	var to [len(levels)][]uint16 // per covariate: global code -> the type's code + 1 (0: not seen)
	var values [len(levels)][]string
	var codes [len(levels)][]uint16
	for k := range levels {
		to[k] = make([]uint16, len(levels[k].labels))
		codes[k] = make([]uint16, 0, n)
	}
	for i := range rows {
		r := &rows[i]
		if r.typ != typ {
			continue
		}
		id := ""
		if r.centre >= 0 {
			id = centres.labels[r.centre]
		}
		c.centre = append(c.centre, id)
		c.osTime = append(c.osTime, r.osTime)
		c.osStatus = append(c.osStatus, r.osStatus)
		c.nrmTime = append(c.nrmTime, r.nrmTime)
		c.nrmStatus = append(c.nrmStatus, r.nrmStatus)
		for k, g := range r.cov {
			t := to[k][g]
			if t == 0 {
				values[k] = append(values[k], levels[k].labels[g])
				t = uint16(len(values[k]))
				to[k][g] = t
			}
			codes[k] = append(codes[k], t-1)
		}
	}
	for k, name := range centreCovariates {
		c.covariates = append(c.covariates, centre.NewCodedCovariate(name, values[k], codes[k]))
	}
	var err error
	c.pattern, err = centre.CovariatePatterns(c.covariates)
	return err
}

// arrowColumn returns a lookup of rec's columns by name; a missing column
// is a programming error in the named query.
func arrowColumn(rec arrow.RecordBatch, query string) func(string) arrow.Array {
	return func(name string) arrow.Array {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) == 0 {
			panic(query + " lacks column " + name)
		}
		return rec.Column(idx[0])
	}
}

// centreTables describes results/centres and results/centre_model (shapes
// in queries/centres_schema.sql), rows in key order.
func centreTables(models []*centreModel) []resultTable {
	type row struct {
		m *centreModel
		r *centre.CentreRow
	}
	var rows []row
	for _, m := range models {
		for i := range m.res.Centres {
			rows = append(rows, row{m, &m.res.Centres[i]})
		}
	}
	// center_id, transplant_type, endpoint: models come in type, endpoint
	// order and each model's centres in centre order, so a stable sort on
	// the centre alone gives the key order.
	slices.SortStableFunc(rows, func(a, b row) int { return strings.Compare(a.r.Centre, b.r.Centre) })
	return []resultTable{{
		name:    "centres",
		orderBy: "center_id, transplant_type, endpoint",
		columns: []string{"center_id", "transplant_type", "endpoint", "n", "n_events", "observed", "std_err", "expected",
			"lower95", "upper95", "lower998", "upper998", "completeness", "flag", "reason"},
		parts: 1,
		emit: func(_ int, w rowSink) {
			for _, x := range rows {
				r := x.r
				w.Str(r.Centre).Str(x.m.typ).Str(x.m.ep.Name).Int(r.N).Int(r.NEvents).Float(r.Observed).Float(r.StdErr).
					Float(r.Expected).Float(r.Lower95).Float(r.Upper95).Float(r.Lower998).Float(r.Upper998).
					Float(r.Completeness).Str(r.Flag).Str(r.Reason).End()
			}
		},
	}, {
		name:    "centre_model",
		orderBy: "transplant_type, endpoint, term",
		columns: []string{"transplant_type", "endpoint", "term", "covariate", "level", "n", "estimate", "robust_se", "note"},
		parts:   1,
		emit: func(_ int, w rowSink) {
			for _, m := range models {
				for k, t := range m.res.Model {
					w.Str(m.typ).Str(m.ep.Name).Int(int64(k + 1)).Str(t.Covariate).Str(t.Level)
					if t.Note == "" {
						w.Int(t.N)
					} else {
						w.Str("")
					}
					w.Float(t.Estimate).Float(t.RobustSE).Str(t.Note).End()
				}
			}
		},
	}}
}
