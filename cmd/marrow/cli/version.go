package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"marrow/internal/duck"
	"marrow/pipeline"
)

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the versions of marrow, Go and DuckDB, and the build tag",
		Long: `Prints marrow's version (and the commit it was built from, when known), the Go
toolchain, the DuckDB library and duckdb-go module linked in, and whether the
binary was built with the duckdb_arrow tag. The same as marrow --version.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(g.stdout, versionText())
			return err
		},
	}
}

// versionText is what `marrow version` and `marrow --version` print.
func versionText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "marrow %s%s\n", pipeline.Version, commit())
	fmt.Fprintf(&b, "go     %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "duckdb %s (duckdb-go %s)\n", duck.Version(), moduleVersion("github.com/duckdb/duckdb-go/v2"))
	if arrowTag {
		b.WriteString("build  -tags duckdb_arrow (Arrow transfer between DuckDB and Go)\n")
	} else {
		b.WriteString("build  without duckdb_arrow (row-by-row fallback; same outputs, slower)\n")
	}
	return b.String()
}

// commit is " (commit abc123def456)" when the binary was built from a git
// checkout, with ", modified" for uncommitted changes.
func commit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if rev == "" {
		return ""
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return " (commit " + rev + dirty + ")"
}

// moduleVersion is the version of a module linked into the binary.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}
