package synth

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Options says what to generate.
type Options struct {
	Transplants int   // number of (good) transplant rows
	Seed        int64 // the extract is a function of the options alone
	// BadRows is the number of extra bad rows per good row of each file
	// (0 = none, at most 1), spread over every rejection kind of SPEC §1.
	BadRows float64
	// CentreEffects adds case mix that differs by centre and a seeded set
	// of centres with a true effect on non-relapse mortality (centres.go).
	CentreEffects bool
}

// Stats counts the rows written, header excluded. Transplants and Events
// are the good rows; the bad rows come on top.
type Stats struct {
	Transplants, Events             int64
	BadTransplantRows, BadEventRows int64
}

// File names and headers of the extract (SPEC §1).
const (
	TransplantsFile = "transplants.csv"
	EventsFile      = "events.csv"

	transplantsHeader = "transplant_id,patient_id,center_id,transplant_date,transplant_type,donor_type,graft_source,indication,disease_status,conditioning,age_years,sex,karnofsky,hct_ci\n"
	eventsHeader      = "transplant_id,event,event_date,grade,detail\n"
)

// chunkSize is the number of transplants generated from one random
// stream. It fixes the output: changing it changes every extract.
const chunkSize = 4096

// Write writes dir/transplants.csv and dir/events.csv, creating dir. The
// same options give byte-identical files. Each file is written under a
// temporary name and renamed into place when complete.
func Write(ctx context.Context, dir string, opts Options) (Stats, error) {
	return write(ctx, dir, opts, runtime.GOMAXPROCS(0))
}

func (o Options) validate() error {
	switch {
	case o.Transplants < 0:
		return fmt.Errorf("synth: transplants %d: must be 0 or more", o.Transplants)
	case math.IsNaN(o.BadRows) || o.BadRows < 0 || o.BadRows > 1:
		return fmt.Errorf("synth: bad rows %v: must be from 0 to 1", o.BadRows)
	}
	return nil
}

func write(ctx context.Context, dir string, opts Options, workers int) (st Stats, err error) {
	if err := opts.validate(); err != nil {
		return Stats{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Stats{}, fmt.Errorf("synth: %w", err)
	}
	txf, err := createTemp(dir, TransplantsFile)
	if err != nil {
		return Stats{}, err
	}
	defer txf.abort()
	evf, err := createTemp(dir, EventsFile)
	if err != nil {
		return Stats{}, err
	}
	defer evf.abort()
	if err := txf.write([]byte(transplantsHeader)); err != nil {
		return Stats{}, err
	}
	if err := evf.write([]byte(eventsHeader)); err != nil {
		return Stats{}, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := &generator{opts: opts, total: int64(opts.Transplants)}
	if opts.CentreEffects {
		g.planted = plantedSet(opts.Seed)
	}
	nChunks := (opts.Transplants + chunkSize - 1) / chunkSize
	// Chunks are generated concurrently and written in order: pending
	// holds one channel per chunk, in chunk order, and its capacity bounds
	// the chunks in flight.
	pending := make(chan chan *chunk, max(workers, 1))
	go func() {
		defer close(pending)
		for i := range nChunks {
			ch := make(chan *chunk, 1)
			select {
			case pending <- ch:
			case <-ctx.Done():
				return
			}
			go func() {
				c := chunkPool.Get().(*chunk)
				g.fill(ctx, c, i)
				ch <- c
			}()
		}
	}()
	for ch := range pending {
		c := <-ch
		if err == nil {
			err = ctx.Err()
		}
		if err == nil {
			if err = txf.write(c.tx); err == nil {
				err = evf.write(c.ev)
			}
			st.add(c.stats)
		}
		chunkPool.Put(c)
		if err != nil {
			cancel()
		}
	}
	if err == nil {
		err = ctx.Err() // cancelled before the last chunk was sent
	}
	if err != nil {
		return Stats{}, err
	}
	if err := txf.commit(); err != nil {
		return Stats{}, err
	}
	if err := evf.commit(); err != nil {
		return Stats{}, err
	}
	return st, nil
}

func (s *Stats) add(o Stats) {
	s.Transplants += o.Transplants
	s.Events += o.Events
	s.BadTransplantRows += o.BadTransplantRows
	s.BadEventRows += o.BadEventRows
}

// tempFile is an output file written under a temporary name.
type tempFile struct {
	f    *os.File
	path string // final path
	done bool
}

func createTemp(dir, name string) (*tempFile, error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	return &tempFile{f: f, path: filepath.Join(dir, name)}, nil
}

func (t *tempFile) write(b []byte) error {
	if _, err := t.f.Write(b); err != nil {
		return fmt.Errorf("synth: write %s: %w", t.path, err)
	}
	return nil
}

func (t *tempFile) commit() error {
	// CreateTemp makes the file private; an extract is an ordinary file.
	if err := t.f.Chmod(0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if err := t.f.Close(); err != nil {
		return fmt.Errorf("synth: write %s: %w", t.path, err)
	}
	if err := os.Rename(t.f.Name(), t.path); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	t.done = true
	return nil
}

// abort removes the temporary file unless it was committed.
func (t *tempFile) abort() {
	if !t.done {
		t.f.Close()
		os.Remove(t.f.Name())
	}
}

// generator holds what every chunk needs.
type generator struct {
	opts    Options
	total   int64
	planted map[int32]float64 // CentreEffects: centre -> NRM hazard ratio
}

// chunk is the output of one chunk of transplants and its scratch space.
type chunk struct {
	idx       int
	start     int64 // transplants before this chunk
	tx, ev    []byte
	stats     Stats
	txRows    [][2]int // byte range of each good transplant row in tx
	o1, o2    outcome
	t1, t2    txRec
	r, bad    *rand.Rand
	pcg, pcgB rand.PCG
}

var chunkPool = sync.Pool{New: func() any {
	c := &chunk{}
	c.r, c.bad = rand.New(&c.pcg), rand.New(&c.pcgB)
	return c
}}

// splitmix64 scrambles a seed so that neighbouring chunk indexes give
// unrelated streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

const badSalt = 0x6261642d726f7773 // "bad-rows"

func (g *generator) fill(ctx context.Context, c *chunk, idx int) {
	c.idx = idx
	c.start = int64(idx) * chunkSize
	c.tx, c.ev, c.txRows = c.tx[:0], c.ev[:0], c.txRows[:0]
	c.stats = Stats{}
	if ctx.Err() != nil {
		return
	}
	s := splitmix64(uint64(g.opts.Seed)) ^ uint64(idx)
	c.pcg.Seed(splitmix64(s), splitmix64(s^0x5851f42d4c957f2d))
	c.pcgB.Seed(splitmix64(s^badSalt), splitmix64(s^badSalt^0x5851f42d4c957f2d))
	n := int(min(chunkSize, g.total-c.start))
	for i := 0; i < n; {
		newTransplant(c.r, &c.t1, c.start+int64(i)+1)
		if g.opts.CentreEffects {
			g.centreEffects(c.r, &c.t1, true)
		}
		simulate(c.r, &c.t1, &c.o1, i+1 < n)
		if c.o1.plan.reason == secondNone {
			g.emit(c, &c.t1, &c.o1)
			i++
			continue
		}
		newSecond(c.r, &c.t1, &c.t2, c.o1.plan)
		if g.opts.CentreEffects {
			g.centreEffects(c.r, &c.t2, false)
		}
		simulate(c.r, &c.t2, &c.o2, false)
		mergeSecond(&c.o1, &c.o2, c.t2.date-c.t1.date)
		g.emit(c, &c.t1, &c.o1)
		g.emit(c, &c.t2, &c.o2)
		i += 2
	}
}

// emit writes a transplant and its events, each row possibly followed by
// an injected bad row.
func (g *generator) emit(c *chunk, t *txRec, o *outcome) {
	start := len(c.tx)
	c.tx = appendTransplant(c.tx, t, c.r, noOverride)
	c.txRows = append(c.txRows, [2]int{start, len(c.tx)})
	c.stats.Transplants++
	injectBad := g.opts.BadRows > 0
	if injectBad && c.bad.Float64() < g.opts.BadRows {
		g.badTransplant(c, t)
	}
	roman := romanCentre(t.centre)
	for _, e := range o.events {
		c.ev = appendEvent(c.ev, t, e, roman, c.r, noOverride)
		c.stats.Events++
		if injectBad && c.bad.Float64() < g.opts.BadRows {
			g.badEvent(c, t, e)
		}
	}
}

// override replaces one field of a row (col ≥ 0), or changes the number
// of fields (fields = -1 drops the last, +1 adds one), or gives the row a
// transplant id of its own (prefix, num).
type override struct {
	col    int
	val    string
	fields int
	prefix byte
	num    int64
}

var noOverride = override{col: -1}

// codeText picks how a code is written: upper-case (events lower-case)
// as a rule, in lower case at centres with that habit, and now and then
// in another case by mistake.
func codeText(v *caseVariants, r *rand.Rand, lower bool) string {
	if lower {
		return v[1]
	}
	if r.Float64() < 0.003 {
		return v[1+r.IntN(2)]
	}
	return v[0]
}

// Columns of transplants.csv in the order written.
const (
	colID = iota
	colPatient
	colCentre
	colDate
	colType
	colDonor
	colGraft
	colInd
	colStatus
	colCond
	colAge
	colSex
	colKarn
	colHct
	nTxCols
)

func appendTransplant(b []byte, t *txRec, r *rand.Rand, ov override) []byte {
	lower := t.centre != 0 && lowerCentre(t.centre)
	last := nTxCols - 1
	if ov.fields < 0 {
		last--
	}
	for col := 0; col <= last; col++ {
		if col > 0 {
			b = append(b, ',')
		}
		if col == ov.col {
			b = appendField(b, ov.val)
			continue
		}
		switch col {
		case colID:
			if ov.prefix != 0 {
				b = appendID(b, ov.prefix, ov.num)
			} else {
				b = appendID(b, 'T', t.num)
			}
		case colPatient:
			if ov.prefix != 0 {
				b = appendID(append(b, 'P'), ov.prefix, ov.num)
			} else {
				b = appendID(b, 'P', t.patient)
			}
		case colCentre:
			if t.miss&missCentre == 0 {
				b = appendPadded(append(b, 'C'), int64(t.centre), 3)
			}
		case colDate:
			b = appendDate(b, t.date)
		case colType:
			b = append(b, codeText(&typeCodes[t.typ], r, lower)...)
		case colDonor:
			if t.typ == allo && t.miss&missDonor == 0 {
				b = append(b, codeText(&donorCodes[t.donor], r, lower)...)
			}
		case colGraft:
			if t.miss&missGraft == 0 {
				b = append(b, codeText(&graftCodes[t.graft], r, lower)...)
			}
		case colInd:
			b = append(b, codeText(&indCodes[t.ind], r, lower)...)
		case colStatus:
			if t.miss&missStatus == 0 {
				b = append(b, codeText(&statusCodes[t.status], r, lower)...)
			}
		case colCond:
			if t.miss&missCond == 0 {
				b = append(b, codeText(&condCodes[t.cond], r, lower)...)
			}
		case colAge:
			if t.miss&missAge == 0 {
				b = appendTenths(b, t.ageTenths)
			}
		case colSex:
			if t.miss&missSex == 0 {
				b = append(b, codeText(&sexCodes[t.sex], r, lower)...)
			}
		case colKarn:
			if t.miss&missKarn == 0 {
				b = appendPadded(b, int64(t.karn), 1)
			}
		case colHct:
			if t.miss&missHct == 0 {
				b = appendPadded(b, int64(t.hct), 1)
			}
		}
	}
	if ov.fields > 0 {
		b = append(b, ",extra"...)
	}
	return append(b, '\n')
}

// Columns of events.csv in the order written.
const (
	colEvID = iota
	colEvent
	colEvDate
	colGrade
	colDetail
	nEvCols
)

func appendEvent(b []byte, t *txRec, e event, roman bool, r *rand.Rand, ov override) []byte {
	last := nEvCols - 1
	if ov.fields < 0 {
		last--
	}
	for col := 0; col <= last; col++ {
		if col > 0 {
			b = append(b, ',')
		}
		if col == ov.col {
			b = appendField(b, ov.val)
			continue
		}
		switch col {
		case colEvID:
			if ov.prefix != 0 {
				b = appendID(b, ov.prefix, ov.num)
			} else {
				b = appendID(b, 'T', t.num)
			}
		case colEvent:
			b = append(b, codeText(&eventCodes[e.kind], r, false)...)
		case colEvDate:
			b = appendDate(b, t.date+e.day)
		case colGrade:
			if roman {
				b = append(b, gradeRoman[e.grade]...)
			} else {
				b = append(b, gradeArabic[e.grade]...)
			}
		case colDetail:
			b = append(b, detailCSV[e.detail]...)
		}
	}
	if ov.fields > 0 {
		b = append(b, ",extra"...)
	}
	return append(b, '\n')
}
