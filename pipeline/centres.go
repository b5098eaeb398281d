package pipeline

import (
	"context"
	"fmt"
	"math"
	"slices"
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
		for _, c := range cohorts {
			// Once per type, shared by its two endpoints' models.
			if err := centre.EncodeCovariates(c.covariates); err != nil {
				return nil, err
			}
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
		// The four models are independent; each is deterministic.
		errs := make([]error, len(models))
		var wg sync.WaitGroup
		for i, m := range models {
			wg.Go(func() {
				c := cohorts[m.typ]
				in := centre.Cohort{Centre: c.centre, OSTime: c.osTime, OSStatus: c.osStatus, Covariates: c.covariates}
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
}

// readCentreCohorts builds the benchmark cohort (centre_cohort.sql) and
// reads it by transplant type: the covariate labels once per pattern
// (centre_patterns.sql), the transplants as numbers and a pattern id
// (centre_transplants.sql). nil when no benchmark transplant has a
// center_id.
func (s *session) readCentreCohorts(ctx context.Context, cutoff time.Time) (map[string]*centreCohort, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// centre_cohort is a temporary table: this connection's only.
	start := time.Now()
	if _, err := conn.ExecContext(ctx, queries.Text("centre_cohort"), cutoff); err != nil {
		return nil, fmt.Errorf("centre cohort: %w", err)
	}
	s.step("centre cohort table", start)
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS centre_cohort")

	// Per type and covariate: the distinct labels, and each pattern's code.
	type coding struct {
		values  [][]string          // per covariate
		index   []map[string]uint16 // per covariate: label -> code
		code    [][]uint16          // per covariate: pattern position -> code
		pattern map[int64]int       // pattern id -> position
	}
	codings := map[string]*coding{}
	err = duck.QueryArrow(ctx, conn, func(rec arrow.RecordBatch) error {
		col := arrowColumn(rec, "centre_patterns.sql")
		tt := col("transplant_type").(*array.String)
		pat := col("pattern").(*array.Int64)
		covs := make([]*array.String, len(centreCovariates))
		for k, name := range centreCovariates {
			covs[k] = col(name).(*array.String)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			cd := codings[tt.Value(i)]
			if cd == nil {
				cd = &coding{values: make([][]string, len(covs)), index: make([]map[string]uint16, len(covs)),
					code: make([][]uint16, len(covs)), pattern: map[int64]int{}}
				for k := range covs {
					cd.index[k] = map[string]uint16{}
				}
				codings[strings.Clone(tt.Value(i))] = cd
			}
			if _, dup := cd.pattern[pat.Value(i)]; dup {
				return fmt.Errorf("two covariate patterns hash to %d: cannot tell them apart", pat.Value(i))
			}
			cd.pattern[pat.Value(i)] = len(cd.code[0])
			for k, a := range covs {
				v := a.Value(i)
				c, ok := cd.index[k][v]
				if !ok {
					if len(cd.values[k]) == math.MaxUint16 {
						return fmt.Errorf("centre covariate %s: too many levels", centreCovariates[k])
					}
					c = uint16(len(cd.values[k]))
					v = strings.Clone(v)
					cd.index[k][v] = c
					cd.values[k] = append(cd.values[k], v)
				}
				cd.code[k] = append(cd.code[k], c)
			}
		}
		return nil
	}, queries.Text("centre_patterns"))
	if err != nil {
		return nil, fmt.Errorf("centre patterns: %w", err)
	}

	out := map[string]*centreCohort{}
	codes := map[string][][]uint16{} // per type, per covariate: subject codes
	centres := map[string]string{}   // interned centre ids
	anyCentre := false
	err = duck.QueryArrow(ctx, conn, func(rec arrow.RecordBatch) error {
		col := arrowColumn(rec, "centre_transplants.sql")
		tt := col("transplant_type").(*array.String)
		cid := col("center_id").(*array.String)
		ot, os := col("os_time").(*array.Int64), col("os_status").(*array.Int64)
		nt, ns := col("nrm_time").(*array.Int64), col("nrm_status").(*array.Int64)
		pat := col("pattern").(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			typ := tt.Value(i)
			c := out[typ]
			cd := codings[typ]
			if cd == nil {
				return fmt.Errorf("centre transplants: type %s has no patterns", typ)
			}
			if c == nil {
				typ = strings.Clone(typ)
				c = &centreCohort{}
				out[typ] = c
				codes[typ] = make([][]uint16, len(centreCovariates))
			}
			id, ok := centres[cid.Value(i)]
			if !ok {
				id = strings.Clone(cid.Value(i))
				centres[id] = id
			}
			anyCentre = anyCentre || id != ""
			c.centre = append(c.centre, id)
			c.osTime = append(c.osTime, ot.Value(i))
			c.osStatus = append(c.osStatus, int8(os.Value(i)))
			c.nrmTime = append(c.nrmTime, nt.Value(i))
			c.nrmStatus = append(c.nrmStatus, int8(ns.Value(i)))
			p, ok := cd.pattern[pat.Value(i)]
			if !ok {
				return fmt.Errorf("centre transplants: unknown pattern %d", pat.Value(i))
			}
			cc := codes[typ]
			for k := range cc {
				cc[k] = append(cc[k], cd.code[k][p])
			}
		}
		return nil
	}, queries.Text("centre_transplants"))
	if err != nil {
		return nil, fmt.Errorf("centre transplants: %w", err)
	}
	if !anyCentre {
		return nil, nil
	}
	for typ, c := range out {
		cd := codings[typ]
		for k, name := range centreCovariates {
			c.covariates = append(c.covariates, centre.NewCodedCovariate(name, cd.values[k], codes[typ][k]))
		}
	}
	return out, nil
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
