package queries

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHeaders: every file opens with a header naming itself and what it
// returns or does, as the SQL style asks.
func TestHeaders(t *testing.T) {
	files, err := fs.Glob(FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no embedded SQL: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(f, ".sql")
		if !strings.HasPrefix(Text(name), "-- "+f+": ") {
			t.Errorf("%s does not open with %q", f, "-- "+f+": ")
		}
	}
	// A template opens with the header of the statement it renders.
	tmpls, _ := fs.Glob(FS, "*.sql.tmpl")
	if len(tmpls) == 0 {
		t.Fatal("no embedded templates")
	}
	for _, f := range tmpls {
		name := strings.TrimSuffix(f, ".sql.tmpl")
		if !strings.HasPrefix(Template(name), "-- "+name+".sql: ") {
			t.Errorf("%s does not open with %q", f, "-- "+name+".sql: ")
		}
	}
}

// TestEveryFileIsUsed: each embedded statement is named by some Go file of
// the module (or, for a family such as load_<table>, its prefix is), so no
// dead SQL lingers.
func TestEveryFileIsUsed(t *testing.T) {
	var src strings.Builder
	filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			b, _ := os.ReadFile(p)
			src.Write(b)
		}
		return nil
	})
	files, _ := fs.Glob(FS, "*.sql")
	tmpls, _ := fs.Glob(FS, "*.sql.tmpl")
	for _, f := range append(files, tmpls...) {
		name := strings.TrimSuffix(strings.TrimSuffix(f, ".tmpl"), ".sql")
		used := strings.Contains(src.String(), `"`+name+`"`)
		// A family named by a computed suffix, e.g. "load_"+table.
		if i := strings.Index(name, "_"); !used && i > 0 {
			used = strings.Contains(src.String(), `"`+name[:i+1]+`"+`)
		}
		if !used {
			t.Errorf("%s is embedded but no Go file names %q", f, name)
		}
	}
}

func TestTextPanicsOnUnknownName(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Text(no_such_query) did not panic")
		}
	}()
	Text("no_such_query")
}
