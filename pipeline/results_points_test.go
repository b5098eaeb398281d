package pipeline

import (
	"context"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"marrow/estimate"
)

// curvesTestTable is a curves table of parts strata of rows points each,
// with both of its builders set (emit row by row, points by column): NaN
// and ±Inf limits, empty std_err where the estimate is 0, a formula-like
// stratum value (CSVSafe), an empty one (NULL) and an empty part.
func curvesTestTable(parts, rows int) (resultTable, *arrow.Schema) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "endpoint", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "transplant_type", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "donor_type", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "indication", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "time", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "n_risk", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "n_event", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "n_compete", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "n_censor", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "estimate", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "std_err", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "lower", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "upper", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	var strata [][]string
	for _, e := range []string{"lfs", "nrm", "os", "relapse"} {
		for _, d := range []string{"", "=HAPLO", "*", "MSD", "MUD"} { // in key order as CSVSafe writes them
			for i := range 100 {
				strata = append(strata, []string{e, "ALLO", d, string(rune('A'+i/26)) + string(rune('A'+i%26))})
			}
		}
	}
	curves := make([][]estimate.Point, parts)
	for p := range curves {
		n := rows
		if p%97 == 5 {
			n = 0
		}
		for r := range n {
			pt := estimate.Point{Time: int64(3 * r), NRisk: int64(rows - r), NEvent: int64(r % 3), NCompete: int64(r % 2),
				NCensor: int64(r % 5), Estimate: 1 / float64(r+2), StdErr: 0.01, Lower: 0.4, Upper: 0.6}
			switch r % 7 {
			case 0:
				pt.Estimate, pt.StdErr, pt.Lower, pt.Upper = 0, 0, math.NaN(), math.NaN()
			case 3:
				pt.Upper = math.Inf(1)
			}
			curves[p] = append(curves[p], pt)
		}
	}
	return resultTable{name: "curves", parts: parts,
		emit: func(i int, w rowSink) {
			g := strata[i]
			for _, p := range curves[i] {
				w.Str(g[0]).Str(g[1]).Str(g[2]).Str(g[3]).Int(p.Time).Int(p.NRisk).Int(p.NEvent).Int(p.NCompete).Int(p.NCensor).
					Float(p.Estimate).Float(p.StdErr).Float(p.Lower).Float(p.Upper).End()
			}
		},
		points: func(i int) ([]string, []estimate.Point) { return strata[i], curves[i] },
	}, schema
}

// collect builds t's records and returns them.
func collect(t *testing.T, tb resultTable, schema *arrow.Schema, notNull map[string]bool) ([]arrow.RecordBatch, int) {
	t.Helper()
	var recs []arrow.RecordBatch
	var n int
	err := buildBatches(context.Background(), tb, schema, notNull, 5, func(r arrow.RecordBatch) error {
		recs = append(recs, r)
		return nil
	}, &n)
	if err != nil {
		t.Fatal(err)
	}
	return recs, n
}

// TestPointsRecord: the curves built column by column (pointsRecord) are
// the records the row-by-row builder (arrowRows, through emit) gives:
// values, NULLs, CSVSafe text, row counts; and out-of-order points fail.
func TestPointsRecord(t *testing.T) {
	for _, notNull := range []map[string]bool{{}, {"donor_type": true}} {
		tb, schema := curvesTestTable(300, 40)
		byCol, n1 := collect(t, tb, schema, notNull)
		tb.points = nil
		byRow, n2 := collect(t, tb, schema, notNull)
		if n1 != n2 || n1 == 0 || len(byCol) != len(byRow) {
			t.Fatalf("rows %d vs %d, records %d vs %d", n1, n2, len(byCol), len(byRow))
		}
		nulls := 0
		for i := range byCol {
			if !array.RecordEqual(byCol[i], byRow[i]) {
				t.Fatalf("notNull %v: record %d differs:\n%v\n%v", notNull, i, byCol[i], byRow[i])
			}
			for c := range byCol[i].Columns() {
				nulls += byCol[i].Column(c).NullN()
			}
			byCol[i].Release()
			byRow[i].Release()
		}
		if nulls == 0 {
			t.Fatal("no NULLs: the test does not reach them")
		}
	}
	tb, schema := curvesTestTable(10, 5)
	pts := tb.points
	tb.points = func(i int) ([]string, []estimate.Point) {
		s, p := pts(i)
		if i == 3 {
			p = append([]estimate.Point{}, p...)
			p[2].Time = p[1].Time
		}
		return s, p
	}
	err := buildBatches(context.Background(), tb, schema, map[string]bool{}, 5, func(r arrow.RecordBatch) error {
		r.Release()
		return nil
	}, new(int))
	if err == nil {
		t.Fatal("a repeated time passed")
	}
}

// BenchmarkCurvesBatches: building the curves table's Arrow records
// (writeArrow's Go side), per curve row, column by column and (byRow)
// through emit.
func BenchmarkCurvesBatches(b *testing.B) {
	for _, byRow := range []bool{false, true} {
		name := "points"
		if byRow {
			name = "emit"
		}
		b.Run(name, func(b *testing.B) {
			const parts, rows = 2000, 500
			tb, schema := curvesTestTable(parts, rows)
			if byRow {
				tb.points = nil
			}
			total := 0
			for range b.N {
				var n int
				err := buildBatches(context.Background(), tb, schema, map[string]bool{}, 5, func(r arrow.RecordBatch) error {
					r.Release()
					return nil
				}, &n)
				if err != nil {
					b.Fatal(err)
				}
				total += n
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/row")
		})
	}
}
