package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Config is marrow's analysis configuration, read from a TOML file. Every
// key is optional; absent keys keep the SPEC defaults of DefaultConfig.
type Config struct {
	// Landmarks are the landmark days of results/landmarks.
	Landmarks []int `toml:"landmarks" json:"landmarks"`
	// ConfType is the Kaplan–Meier confidence interval scale: "log-log"
	// (default, as survfit conf.type = "log-log"), "log" or "plain".
	ConfType string `toml:"conf_type" json:"conf_type"`
	// MinCell suppresses report estimates for strata with fewer
	// transplants; 0 disables suppression. results/ is never suppressed.
	MinCell int `toml:"min_cell" json:"min_cell"`
	// MinGroup leaves a group with fewer transplants in the endpoint's
	// population out of its test (named in tests' excluded column); 0
	// keeps every group (SPEC §3).
	MinGroup int `toml:"min_group" json:"min_group"`
	// MaxRejectRate fails the run when a file's share of rejected rows is
	// larger (0.01 = 1%).
	MaxRejectRate float64 `toml:"max_reject_rate" json:"max_reject_rate"`
	// Cohort is "first" (each patient's first transplant of each type, the
	// SPEC default) or "all" transplants.
	Cohort string `toml:"cohort" json:"cohort"`
	// Strata are the SPEC grouping sets to estimate: "all" (*,*,*), "type"
	// (type,*,*), "indication" (*,*,ind), "type_indication" (type,*,ind),
	// "donor" (ALLO,donor,*), "donor_indication" (ALLO,donor,ind). Default
	// all six. The tests compare type_indication strata, so they need it.
	Strata []string `toml:"strata" json:"strata"`
	// Centres turns the centre benchmark of SPEC §6 on (default) or off.
	Centres bool `toml:"centres" json:"centres"`
	// MinCentre: a centre with fewer benchmark transplants is not_assessed.
	MinCentre int `toml:"min_centre" json:"min_centre"`
	// Threads caps DuckDB's threads (0 = all cores, at most MaxThreads). It
	// never changes an output byte.
	Threads int `toml:"threads" json:"-"`
	// MemoryLimit is DuckDB's memory_limit (default "2GB": with Go's own
	// share a 1,000,000-transplant run peaks near 3 GiB). Larger extracts
	// spill to TempDir rather than grow. At least 64MB.
	MemoryLimit string `toml:"memory_limit" json:"-"`
	// TempDir is where DuckDB spills: an existing, writable directory; ""
	// = the system temp dir (DuckDB's own default for an in-memory database
	// would be ./.tmp in the working directory). Each run spills into a
	// private marrow-spill-* directory under it, removed when the run ends.
	TempDir string `toml:"temp_dir" json:"-"`
	// Endpoints and Analyses are the declared [[endpoint]] and
	// [[analysis]] tables (SPEC §5; analysis_config.go).
	Endpoints []EndpointConfig `toml:"endpoint" json:"endpoint,omitempty"`
	Analyses  []AnalysisConfig `toml:"analysis" json:"analysis,omitempty"`
	// MaxChange, if set, fails a run that changed more than it allows
	// against the output it replaces (changes.go). Off by default.
	MaxChange *MaxChange `toml:"max_change" json:"max_change,omitempty"`
}

// DefaultConfig returns the SPEC defaults.
func DefaultConfig() Config {
	return Config{
		Landmarks:     []int{100, 180, 365, 730, 1095, 1825},
		ConfType:      "log-log",
		MinCell:       10,
		MinGroup:      10,
		MaxRejectRate: 0.01,
		Cohort:        "first",
		Strata:        append([]string(nil), StrataSets...),
		MemoryLimit:   "2GB",
		Centres:       true,
		MinCentre:     20,
	}
}

// LoadConfig reads a TOML config file over the defaults. Unknown keys are
// an error: a misspelt key silently ignored would change the analysis.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&cfg)
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return cfg, fmt.Errorf("config %s: unknown key(s) %s", path, strings.Join(keys, ", "))
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// StrataSets are the grouping sets of SPEC §3, in its order.
var StrataSets = []string{"all", "type", "indication", "type_indication", "donor", "donor_indication"}

var memoryLimitRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

// Bounds of the machine settings. MaxThreads is far above any machine
// marrow runs on; a larger value is a typo (2147483648 made the Go runtime
// abort). Below minMemoryLimit DuckDB cannot load even the demo extract.
const (
	MaxThreads     = 1024
	minMemoryLimit = 64_000_000 // 64MB
	// MaxLandmark is the number of days from 1900-01-01 to 2199-12-31, the
	// dates ingest accepts: no follow-up can be longer.
	MaxLandmark = 109572
)

var sizeUnits = map[string]float64{
	"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
}

// parseSize reads a DuckDB size ("4GB", "512 MiB") as bytes.
func parseSize(s string) (float64, bool) {
	m := memoryLimitRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	x, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return x * sizeUnits[m[2]], true
}

// writableDir checks that dir is a directory this process can create
// files in, so that a bad temp_dir fails at the start rather than when
// DuckDB first spills.
func writableDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("does not exist or cannot be read: %w", errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	f, err := os.CreateTemp(dir, ".marrow-probe-")
	if err != nil {
		return fmt.Errorf("not writable: %w", errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// Validate checks the values and normalises the landmark list (sorted,
// unique).
func (c *Config) Validate() error {
	switch c.ConfType {
	case "log-log", "log", "plain":
	default:
		return fmt.Errorf("conf_type %q: want log-log, log or plain", c.ConfType)
	}
	switch c.Cohort {
	case "first", "all":
	default:
		return fmt.Errorf("cohort %q: want first or all", c.Cohort)
	}
	if len(c.Landmarks) == 0 {
		return fmt.Errorf("landmarks: at least one day is needed")
	}
	for _, d := range c.Landmarks {
		if d < 1 || d > MaxLandmark {
			return fmt.Errorf("landmarks: day %d: must be from 1 to %d (the span of dates ingest accepts)", d, MaxLandmark)
		}
	}
	sort.Ints(c.Landmarks)
	uniq := c.Landmarks[:1]
	for _, d := range c.Landmarks[1:] {
		if d != uniq[len(uniq)-1] {
			uniq = append(uniq, d)
		}
	}
	c.Landmarks = uniq
	if len(c.Strata) == 0 {
		return fmt.Errorf("strata: at least one of %s is needed", strings.Join(StrataSets, ", "))
	}
	for _, st := range c.Strata {
		if !slices.Contains(StrataSets, st) {
			return fmt.Errorf("strata %q: want some of %s", st, strings.Join(StrataSets, ", "))
		}
	}
	if c.MinCell < 0 {
		return fmt.Errorf("min_cell %d: must be 0 or more", c.MinCell)
	}
	if c.MinGroup < 0 {
		return fmt.Errorf("min_group %d: must be 0 or more", c.MinGroup)
	}
	if !(c.MaxRejectRate >= 0 && c.MaxRejectRate <= 1) {
		return fmt.Errorf("max_reject_rate %v: must be between 0 and 1", c.MaxRejectRate)
	}
	if c.MinCentre < 1 {
		return fmt.Errorf("min_centre %d: must be 1 or more", c.MinCentre)
	}
	if c.Threads < 0 || c.Threads > MaxThreads {
		return fmt.Errorf("threads %d: must be from 0 (all cores) to %d", c.Threads, MaxThreads)
	}
	if c.MemoryLimit != "" {
		n, ok := parseSize(c.MemoryLimit)
		switch {
		case !ok:
			return fmt.Errorf("memory_limit %q: want a size such as 4GB", c.MemoryLimit)
		case n < minMemoryLimit:
			return fmt.Errorf("memory_limit %q: must be at least 64MB", c.MemoryLimit)
		}
	}
	if err := c.MaxChange.validate(); err != nil {
		return err
	}
	if strings.ContainsAny(c.TempDir, "'\x00") {
		return fmt.Errorf("temp_dir %q: quotes are not allowed", c.TempDir)
	}
	if c.TempDir != "" {
		if err := writableDir(c.TempDir); err != nil {
			return fmt.Errorf("temp_dir %q: %w", c.TempDir, err)
		}
	}
	return c.validateAnalyses()
}
