package pipeline

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
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
	// Threads caps DuckDB's threads (0 = all cores). It never changes an
	// output byte.
	Threads int `toml:"threads" json:"-"`
	// MemoryLimit is DuckDB's memory_limit (default "2GB": with Go's own
	// share a 1,000,000-transplant run peaks near 3 GiB). Larger extracts
	// spill to TempDir rather than grow.
	MemoryLimit string `toml:"memory_limit" json:"-"`
	// TempDir is DuckDB's spill directory; "" = a fresh directory under the
	// system temp dir, removed when the run ends (DuckDB's own default for
	// an in-memory database would be ./.tmp in the working directory).
	TempDir string `toml:"temp_dir" json:"-"`
}

// DefaultConfig returns the SPEC defaults.
func DefaultConfig() Config {
	return Config{
		Landmarks:     []int{100, 180, 365, 730, 1095, 1825},
		ConfType:      "log-log",
		MinCell:       10,
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

var memoryLimitRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

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
		if d < 0 {
			return fmt.Errorf("landmarks: negative day %d", d)
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
	if !(c.MaxRejectRate >= 0 && c.MaxRejectRate <= 1) {
		return fmt.Errorf("max_reject_rate %v: must be between 0 and 1", c.MaxRejectRate)
	}
	if c.MinCentre < 1 {
		return fmt.Errorf("min_centre %d: must be 1 or more", c.MinCentre)
	}
	if c.Threads < 0 {
		return fmt.Errorf("threads %d: must be 0 or more", c.Threads)
	}
	if c.MemoryLimit != "" && !memoryLimitRE.MatchString(c.MemoryLimit) {
		return fmt.Errorf("memory_limit %q: want a size such as 4GB", c.MemoryLimit)
	}
	if strings.ContainsAny(c.TempDir, "'\x00") {
		return fmt.Errorf("temp_dir %q: quotes are not allowed", c.TempDir)
	}
	return nil
}
