package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"marrow/dictionary"
	"marrow/queries"
	"marrow/transforms"
)

// tableColumns returns table's columns and types as the session holds it.
func (s *session) tableColumns(ctx context.Context, table string) ([]dictionary.Column, error) {
	cols, err := s.queryColumns(ctx, table, queries.Text("table_columns"), table)
	if err == nil && len(cols) == 0 {
		return nil, fmt.Errorf("dictionary: no table %s", table)
	}
	return cols, err
}

// fileColumns returns the columns and types of the Parquet file at path
// as DuckDB reads them.
func (s *session) fileColumns(ctx context.Context, path string) ([]dictionary.Column, error) {
	return s.queryColumns(ctx, path, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))", path)
}

// queryColumns reads (name, type) rows of q as columns of what.
func (s *session) queryColumns(ctx context.Context, what, q string, args ...any) ([]dictionary.Column, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("dictionary %s: %w", what, err)
	}
	defer rows.Close()
	var cols []dictionary.Column
	for rows.Next() {
		var c dictionary.Column
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// writeWarehouseDictionary writes dir/DICTIONARY.md for the warehouse
// tables (and the cohort once derived).
func (s *session) writeWarehouseDictionary(ctx context.Context, dir string, withCohort bool) error {
	names := slices.Clone(transforms.WarehouseTables)
	if withCohort {
		names = append(names, "cohort")
	}
	var tables []dictionary.Table
	for _, n := range names {
		cols, err := s.tableColumns(ctx, n)
		if err != nil {
			return err
		}
		tables = append(tables, dictionary.Table{Name: n, Files: n + ".parquet", Columns: cols})
	}
	// The event summary is described from its file: derive drops the
	// session's table or view of it.
	if summary := filepath.Join(dir, transforms.SummaryTable+".parquet"); fileExists(summary) {
		cols, err := s.fileColumns(ctx, summary)
		if err != nil {
			return err
		}
		tables = append(tables, dictionary.Table{Name: transforms.SummaryTable, Files: transforms.SummaryTable + ".parquet", Columns: cols})
	}
	return writeDictionary(filepath.Join(dir, "DICTIONARY.md"), "marrow warehouse",
		"The curated Parquet tables of one run (SPEC §4). Dates are DATE; times are whole days since the transplant date.",
		tables, s)
}

// writeResultsDictionary writes dir/DICTIONARY.md for results/: the
// default analysis's tables, changes, then each analysis's under
// analyses/<name>/. changes is documented whether or not this run writes it
// (a first run does not), so the dictionary does not depend on the output
// a run replaces.
func (s *session) writeResultsDictionary(ctx context.Context, dir string) error {
	files := map[string]string{"landmarks": ".parquet, %s.csv", "curves": ".parquet", "medians": ".parquet, %s.csv",
		"tests": ".parquet, %s.csv", "changes": ".parquet, %s.csv", "centres": ".parquet, %s.csv", "centre_model": ".parquet, %s.csv"}
	order := []string{"landmarks", "curves", "medians", "tests"}
	var tables []dictionary.Table
	add := func(table, path, name string, dims []string) error {
		cols, err := s.tableColumns(ctx, table)
		if err != nil {
			return err
		}
		f := path + name + files[name]
		if files[name] != ".parquet" {
			f = fmt.Sprintf(path+name+files[name], path+name)
		}
		tables = append(tables, dictionary.Table{Name: name, Files: f, Columns: cols, Dims: dims})
		return nil
	}
	for _, n := range order {
		if err := add(n, "", n, nil); err != nil {
			return err
		}
	}
	if s.centresWritten {
		for _, n := range []string{"centres", "centre_model"} {
			if err := add(n, "", n, nil); err != nil {
				return err
			}
		}
	}
	if err := add("changes", "", "changes", nil); err != nil {
		return err
	}
	for _, a := range s.analysisResults {
		for _, n := range order {
			if err := add("analysis_"+a.name+"_"+n, "analyses/"+a.name+"/", n, a.dims); err != nil {
				return err
			}
		}
	}
	return writeDictionary(filepath.Join(dir, "DICTIONARY.md"), "marrow results",
		"Estimates of one run (SPEC §3-§5), unsuppressed. Strata columns hold a group or * (pooled); an empty number is not estimable. "+
			"results/analyses/<name>/ holds each declared analysis (and the built-in by_year), with one column per dimension in place of transplant_type, donor_type, indication.",
		tables, s)
}

func writeDictionary(path, title, intro string, tables []dictionary.Table, s *session) error {
	text, err := dictionary.Render(title, intro, tables, s.eps)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
