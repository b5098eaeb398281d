package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "marrow.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
		check               func(Config) bool
	}{
		{"defaults", "", "", func(c Config) bool {
			return c.ConfType == "log-log" && c.MinCell == 10 && c.MinGroup == 10 && c.MaxRejectRate == 0.01 && len(c.Strata) == 6 && len(c.Landmarks) == 6
		}},
		{"landmarks sorted and unique", "landmarks = [365, 100, 365]", "", func(c Config) bool {
			return len(c.Landmarks) == 2 && c.Landmarks[0] == 100 && c.Landmarks[1] == 365
		}},
		{"min_cell 0 disables", "min_cell = 0", "", func(c Config) bool { return c.MinCell == 0 }},
		{"min_group 0 keeps every group", "min_group = 0", "", func(c Config) bool { return c.MinGroup == 0 }},
		{"min_group 25", "min_group = 25", "", func(c Config) bool { return c.MinGroup == 25 }},
		{"negative min_group", "min_group = -1", "min_group", nil},
		{"min_group not a number", `min_group = "ten"`, "min_group", nil},
		{"strata subset", `strata = ["all", "type"]`, "", func(c Config) bool { return len(c.Strata) == 2 }},
		{"unknown key", `conf_typ = "log"`, "unknown key", nil},
		{"bad conf_type", `conf_type = "logit"`, "conf_type", nil},
		{"bad stratum", `strata = ["donor_type"]`, "strata", nil},
		{"empty strata", `strata = []`, "strata", nil},
		{"negative landmark", `landmarks = [-1]`, "landmarks: day -1", nil},
		{"landmark 0", `landmarks = [0, 100]`, "landmarks: day 0", nil},
		{"landmark above 2^31", `landmarks = [100, 2147483648]`, "landmarks: day 2147483648", nil},
		{"landmark past the date range", `landmarks = [109573]`, "landmarks: day 109573", nil},
		{"longest landmark", `landmarks = [109572]`, "", func(c Config) bool { return c.Landmarks[0] == MaxLandmark }},
		{"threads 2^31", `threads = 2147483648`, "threads 2147483648", nil},
		{"threads 10000", `threads = 10000`, "threads 10000", nil},
		{"threads max", `threads = 1024`, "", func(c Config) bool { return c.Threads == 1024 }},
		{"negative threads", `threads = -1`, "threads -1", nil},
		{"memory 1KB", `memory_limit = "1KB"`, "memory_limit \"1KB\": must be at least 64MB", nil},
		{"memory 64MB", `memory_limit = "64MB"`, "", func(c Config) bool { return c.MemoryLimit == "64MB" }},
		{"memory 1.5 GiB", `memory_limit = "1.5 GiB"`, "", func(c Config) bool { return c.MemoryLimit == "1.5 GiB" }},
		{"temp_dir missing", `temp_dir = "/nonexistent/marrow"`, "temp_dir \"/nonexistent/marrow\": does not exist", nil},
		{"temp_dir a file", `temp_dir = "/etc/hostname"`, "not a directory", nil},
		{"bad memory", `memory_limit = "lots"`, "memory_limit", nil},
		{"quote in temp_dir", `temp_dir = "/tmp/x'; DROP"`, "temp_dir", nil},
		{"reject rate above 1", `max_reject_rate = 2.0`, "max_reject_rate", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(writeConfig(t, tc.text))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), "marrow.toml") || strings.Contains(err.Error(), "\n") {
					t.Errorf("err %q: want one line naming the config file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(cfg) {
				t.Errorf("config %+v", cfg)
			}
		})
	}
}

// TestConfigStrataAndLandmarks: the strata and landmarks keys shape
// results/landmarks.
func TestConfigStrataAndLandmarks(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, "strata = [\"all\", \"type\"]\nlandmarks = [30, 90]\n"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Run(context.Background(), RunOptions{Extract: "../testdata/adversarial/confs_log/extract", Out: out, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	rows, _ := readCSVMap(t, filepath.Join(out, "results", "landmarks.csv"), []string{"endpoint", "transplant_type", "donor_type", "indication", "day"})
	if len(rows) == 0 {
		t.Fatal("no landmark rows")
	}
	for k, r := range rows {
		if r["donor_type"] != "*" || r["indication"] != "*" {
			t.Errorf("row %s is outside the strata all and type", k)
		}
		if r["day"] != "30" && r["day"] != "90" {
			t.Errorf("row %s has a day outside the landmarks", k)
		}
	}
}

// TestTempDirWritable: a temp_dir that exists but cannot be written is
// refused up front, not when DuckDB first spills.
func TestTempDirWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	_, err := LoadConfig(writeConfig(t, "temp_dir = \""+dir+"\"\n"))
	if err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("err = %v, want not writable", err)
	}
}
