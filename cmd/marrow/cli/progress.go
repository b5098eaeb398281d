package cli

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a spinner with the running stage and its elapsed time on
// an interactive terminal, and nothing in cron or CI (stderr not a
// terminal), under --log-json or under -q. Log lines go through it so the
// spinner is cleared before each one and never garbles it.
type progress struct {
	mu   sync.Mutex
	out  io.Writer
	bar  *progressbar.ProgressBar
	stop chan struct{}
	once sync.Once
}

// newProgress returns a progress for stderr, or nil when it must stay silent.
func newProgress(g *globals) *progress {
	f, ok := g.stderr.(*os.File)
	if !ok || g.logJSON || g.quiet || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	p := &progress{out: g.stderr, stop: make(chan struct{})}
	p.bar = progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(g.stderr),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				p.bar.Add(1)
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// stage is the pipeline's callback at the start of each stage.
func (p *progress) stage(name string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.Describe(name)
}

// Write clears the spinner line, then writes a log line.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.Clear()
	return p.out.Write(b)
}

// done stops and clears the spinner; later calls do nothing.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		close(p.stop)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.bar.Finish()
	})
}
