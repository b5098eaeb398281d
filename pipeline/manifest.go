package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
	// Warnings are what the run found doubtful but not wrong (a cutoff
	// long after the latest event); the report shows them.
	Warnings []string   `json:"warnings,omitempty"`
	Outputs  []FileHash `json:"outputs"`
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
	return compareHashes(dir, "manifest.json", m.Outputs, got)
}

// verifyCopy checks the warehouse/ and results/ copied into dir against
// the outputs m lists under them; out names the output in messages.
func verifyCopy(dir, out string, m Manifest) error {
	got, err := treeHashes(dir, nil)
	if err != nil {
		return err
	}
	var want []FileHash
	for _, f := range m.Outputs {
		if strings.HasPrefix(f.Path, "warehouse/") || strings.HasPrefix(f.Path, "results/") {
			want = append(want, f)
		}
	}
	return compareHashes(out, "manifest.json", want, got)
}

// warehouseManifestName is the manifest marrow ingest writes into a
// warehouse directory: the sha256 of each of its files, checked by analyze
// before it reads them.
const warehouseManifestName = "warehouse.json"

// WarehouseManifest is warehouse.json.
type WarehouseManifest struct {
	Marrow string     `json:"marrow_version"`
	Files  []FileHash `json:"files"`
}

func writeWarehouseManifest(dir string) error {
	hashes, err := treeHashes(dir, func(rel string) bool { return rel == warehouseManifestName })
	if err != nil {
		return fmt.Errorf("warehouse manifest: %w", err)
	}
	b, err := json.MarshalIndent(WarehouseManifest{Marrow: Version, Files: hashes}, "", "  ")
	if err != nil {
		return fmt.Errorf("warehouse manifest: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, warehouseManifestName), append(b, '\n'), 0o644)
}

// verifyWarehouse checks a warehouse written by marrow ingest against its
// warehouse.json, as Verify does an output.
func verifyWarehouse(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, warehouseManifestName))
	if err != nil {
		return fmt.Errorf("warehouse %s: no readable %s (is it a warehouse written by marrow ingest?): %w", dir, warehouseManifestName, err)
	}
	var m WarehouseManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("warehouse %s: %s: %w", dir, warehouseManifestName, err)
	}
	got, err := treeHashes(dir, func(rel string) bool { return rel == warehouseManifestName })
	if err != nil {
		return fmt.Errorf("warehouse %s: %w", dir, err)
	}
	return compareHashes(dir, warehouseManifestName, m.Files, got)
}

// compareHashes checks the files found (got) against the ones a manifest
// lists (want): same paths, same sha256.
func compareHashes(dir, manifest string, want, got []FileHash) error {
	listed := map[string]string{}
	for _, f := range want {
		listed[f.Path] = f.SHA256
	}
	for _, f := range got {
		w, ok := listed[f.Path]
		switch {
		case !ok:
			return fmt.Errorf("verify %s: %s is not in %s", dir, f.Path, manifest)
		case w != f.SHA256:
			return fmt.Errorf("verify %s: %s has changed since %s was written (sha256 %s, %s says %s)", dir, f.Path, manifest, f.SHA256, manifest, w)
		}
		delete(listed, f.Path)
	}
	missing := make([]string, 0, len(listed))
	for p := range listed {
		missing = append(missing, p)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return fmt.Errorf("verify %s: %s is missing", dir, missing[0])
	}
	return nil
}

// lockWarehouse takes the shared lock of the warehouse analyze reads (so
// no ingest replaces it meanwhile) and checks its files against the hashes
// recorded when it was written: warehouse.json for a warehouse of marrow
// ingest, the output's manifest.json for the warehouse/ of a published
// output (whose lock is then the output's).
func lockWarehouse(dir string) (release func(), err error) {
	real, err := realPath(dir)
	if err != nil {
		return nil, badInput(fmt.Errorf("--warehouse %s: %w", dir, err))
	}
	if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
		return nil, badInput(fmt.Errorf("--warehouse %s: not a directory", dir))
	}
	output := filepath.Dir(real)
	published := false
	if _, err := os.Stat(filepath.Join(output, "manifest.json")); err == nil && filepath.Base(real) == "warehouse" {
		published = true
	}
	target := real
	if published {
		target = output
	}
	lk, err := acquireSharedLock(target)
	if err != nil {
		return nil, err
	}
	// Messages name the paths as the user gave them.
	if published {
		err = Verify(filepath.Dir(filepath.Clean(dir)))
	} else {
		err = verifyWarehouse(dir)
	}
	if err != nil {
		lk.release()
		return nil, badInput(fmt.Errorf("%w: refusing to read it", err))
	}
	return lk.release, nil
}
