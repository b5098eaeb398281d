package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Version is marrow's version, recorded in every manifest.
const Version = "0.1.0"

// Manifest is manifest.json: what went in, how it was configured and what
// came out, so every number in a report can be traced to its run. It holds
// no wall-clock time unless SOURCE_DATE_EPOCH is set.
type Manifest struct {
	Marrow        string      `json:"marrow_version"`
	DuckDB        string      `json:"duckdb_version"`
	SourceDate    string      `json:"source_date,omitempty"`
	Cutoff        string      `json:"cutoff"`
	CutoffDefault bool        `json:"cutoff_is_default"`
	Config        Config      `json:"config"`
	Inputs        []InputFile `json:"inputs"`
	Outputs       []FileHash  `json:"outputs"`
}

// InputFile is one extract file as ingested. Path is the file's name only,
// so the same extract gives the same manifest wherever it lies.
type InputFile struct {
	Path         string `json:"path"`
	SHA256       string `json:"sha256"`
	RowsRead     int64  `json:"rows_read"`
	RowsAccepted int64  `json:"rows_accepted"`
	RowsRejected int64  `json:"rows_rejected"`
}

// FileHash is one output file, relative to --out.
type FileHash struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// writeManifest hashes every file under dir (except the manifest itself)
// and writes dir/manifest.json.
func writeManifest(dir string, m Manifest) error {
	hashes, err := treeHashes(dir, func(rel string) bool { return rel == "manifest.json" })
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	m.Outputs = hashes
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644)
}

// readManifest reads dir/manifest.json.
func readManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return m, fmt.Errorf("manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("manifest %s: %w", dir, err)
	}
	return m, nil
}

// Verify checks an output directory against its manifest: every listed
// file exists with the listed sha256, and no unlisted file is present.
func Verify(dir string) error {
	m, err := readManifest(dir)
	if err != nil {
		return err
	}
	got, err := treeHashes(dir, func(rel string) bool { return rel == "manifest.json" })
	if err != nil {
		return err
	}
	want := map[string]string{}
	for _, f := range m.Outputs {
		want[f.Path] = f.SHA256
	}
	for _, f := range got {
		w, ok := want[f.Path]
		switch {
		case !ok:
			return fmt.Errorf("verify %s: %s is not in the manifest", dir, f.Path)
		case w != f.SHA256:
			return fmt.Errorf("verify %s: %s sha256 %s, manifest says %s", dir, f.Path, f.SHA256, w)
		}
		delete(want, f.Path)
	}
	for p := range want {
		return fmt.Errorf("verify %s: %s is missing", dir, p)
	}
	return nil
}
