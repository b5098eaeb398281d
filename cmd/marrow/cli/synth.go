package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"marrow/synth"
)

type synthOptions struct {
	transplants int
	seed        int64
	extract     string
	badRows     float64
	force       bool
	centres     bool
}

func newSynthCommand(g *globals) *cobra.Command {
	var o synthOptions
	c := &cobra.Command{
		Use:   "synth --transplants N --seed S --extract DIR [--bad-rows FRACTION]",
		Short: "write a realistic synthetic registry extract",
		Long: `Writes transplants.csv and events.csv of a synthetic registry with competing
hazards that differ by indication, transplant type and donor. The same N and
seed give byte-identical files. --bad-rows injects rows of every rejection kind.
An --extract directory that is not empty is refused unless --force is given
(then transplants.csv and events.csv are replaced, other files left alone).`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.transplants <= 0 || o.extract == "" {
				return usagef("synth needs --transplants N (> 0) and --extract DIR")
			}
			if o.badRows < 0 || o.badRows > 1 {
				return usagef("--bad-rows %v: want a fraction between 0 and 1", o.badRows)
			}
			if err := checkSynthTarget(o.extract, o.force); err != nil {
				return err
			}
			st, err := synth.Write(c.Context(), o.extract, synth.Options{
				Transplants: o.transplants, Seed: o.seed, BadRows: o.badRows, CentreEffects: o.centres,
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s: %d transplants, %d events (%d + %d bad rows)\n",
				o.extract, st.Transplants, st.Events, st.BadTransplantRows, st.BadEventRows)
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&o.transplants, "transplants", 0, "number of transplants `N`")
	f.Int64Var(&o.seed, "seed", 1, "random seed `S`")
	f.StringVar(&o.extract, "extract", "", "extract `DIR` to write")
	f.Float64Var(&o.badRows, "bad-rows", 0, "fraction of injected bad rows")
	f.BoolVar(&o.force, "force", false, "overwrite the extract files of a non-empty --extract")
	f.BoolVar(&o.centres, "centre-effects", false, "case mix by centre and a seeded set of centres with a true NRM hazard ratio (synth/centres.go)")
	return c
}

// checkSynthTarget refuses to write into a non-empty directory (a real
// extract, say) unless force is set.
func checkSynthTarget(dir string, force bool) error {
	if st, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err == nil && !st.IsDir() {
		return usagef("--extract %s is not a directory", dir)
	}
	ents, err := os.ReadDir(dir)
	switch {
	case err != nil:
		return usagef("--extract %s: %v", dir, err)
	case len(ents) > 0 && !force:
		return usagef("--extract %s is not empty (%d entries): pass --force to overwrite its transplants.csv and events.csv", dir, len(ents))
	}
	return nil
}
