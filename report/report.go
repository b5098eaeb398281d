package report

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

//go:embed templates/*.html.tmpl
var templateFS embed.FS

// The templates are parsed once; a parse error is a programming error. A
// section's own file may keep its named templates in templates/NAME.html.tmpl.
var htmlTmpl = htmltemplate.Must(htmltemplate.New("index.html.tmpl").ParseFS(templateFS, "templates/*.html.tmpl"))

// Test hooks of the disclosure tests: bypassTable names a table that
// ignores the suppressor's decisions, bypassComplementary one that applies
// only the primary rule.
var (
	bypassTable         string
	bypassComplementary string
)

// Write renders d into dir/index.html and dir/report.md, creating dir if
// needed. The same d always gives the same bytes. It first audits the
// report (Audit) and writes nothing if a hidden count could be derived.
//
// The suppressor decides once (decidePage); the audit reads the marked
// printing of that decision while the page itself is assembled from the
// same decision's printing pass, on another core. Both printings are
// passes of one settled counter, so the audited page and the written one
// hide the same cells (the marks are all that differs).
func Write(dir string, d *Data) error {
	p := decidePage(d, true)
	var found []string
	var auditErr error
	var wg sync.WaitGroup
	wg.Go(func() { found, auditErr = p.audit() })
	h, m, err := p.page(p.secs)
	wg.Wait()
	if auditErr != nil {
		return auditErr
	}
	if len(found) > 0 {
		return fmt.Errorf("report: the small-count audit can derive %d hidden count(s), first %s; no report written", len(found), found[0])
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"index.html", h}, {"report.md", m}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.b, 0o644); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

type pageView struct {
	Title, Cutoff, MarrowVersion, DuckDBVersion, GeneratedAt string
	Sections                                                 []Section
}

// Render returns the HTML and Markdown reports of d. The sections are
// rendered twice: once to record every count and sum, then, after the
// suppressor has decided over all of them, to print.
func Render(d *Data) (html, md []byte, err error) {
	p := decidePage(d, false)
	return p.page(p.secs)
}

// decided is a report whose suppression is settled: the counter after the
// recording pass, the suppressor's decision and the printing passes, and
// the last printing pass's sections.
type decided struct {
	d    *Data
	c    *counter
	secs []Section
	// markedSecs is the marked twin of secs (decidePage with marked).
	markedSecs []Section
	// paths are the curves' paths the passes drew.
	paths *pathCache
}

// decidePage records every count and sum of d, lets the suppressor decide
// and prints until what is printed is what the decision assumed. With
// marked, each printing pass has a marked twin (marked) run beside it on
// a copy of the counter: the twin of the last pass is the audit's page,
// printed while the page itself is.
func decidePage(d *Data, marked bool) *decided {
	c := newCounter(d.Config.MinCell)
	c.bypass, c.bypassComplementary = bypassTable, bypassComplementary
	r := &renderer{d: d, c: c, paths: newPathCache()}
	r.sections()
	c.decide()
	p := &decided{d: d, c: c, paths: r.paths}
	print := func() {
		if !marked {
			p.secs = r.sections()
			return
		}
		twin := p.markedRenderer() // copied before the pass starts
		var wg sync.WaitGroup
		wg.Go(func() { p.markedSecs = twin.sections() })
		p.secs = r.sections()
		wg.Wait()
	}
	print()
	for i := 0; i < 8 && !c.settle(); i++ {
		print()
	}
	return p
}

// markedRenderer prints the decision as it stands with every printed count
// marked by its cell (⟦key⟧text⟦/⟧), for the audit. It works on a copy of
// the counter (its own printed set), so it may run beside a printing pass
// of p.c: printing passes only read the rest of the counter.
func (p *decided) markedRenderer() *renderer {
	c := *p.c
	c.mark, c.printed = true, map[string]bool{}
	return &renderer{d: p.d, c: &c, paths: p.paths}
}

// page assembles index.html and report.md from printed sections.
func (p *decided) page(secs []Section) (html, md []byte, err error) {
	d := p.d
	v := pageView{Title: d.Title, Cutoff: d.Cutoff, MarrowVersion: d.MarrowVersion, DuckDBVersion: d.DuckDBVersion, GeneratedAt: d.GeneratedAt, Sections: secs}
	if v.Title == "" {
		v.Title = "marrow report"
	}
	var hb bytes.Buffer
	if err := htmlTmpl.Execute(&hb, v); err != nil {
		return nil, nil, fmt.Errorf("report: index.html: %w", err)
	}
	return hb.Bytes(), markdown(v), nil
}

// markdown is report.md: a short summary (the first page and the quality
// verdict) and the list of sections in index.html.
func markdown(v pageView) []byte {
	var b strings.Builder
	b.WriteString("# " + mdText(v.Title) + "\n\n")
	b.WriteString("Data cutoff " + mdText(v.Cutoff) + " · marrow " + mdText(v.MarrowVersion) + " · DuckDB " + mdText(v.DuckDBVersion))
	if v.GeneratedAt != "" {
		b.WriteString(" · generated " + mdText(v.GeneratedAt))
	}
	b.WriteString("\n\nA short summary; every figure and table is in index.html.\n")
	for _, s := range v.Sections {
		if s.Markdown != "" {
			b.WriteString("\n## " + mdText(s.Title) + "\n\n" + s.Markdown)
		}
	}
	b.WriteString("\n## In index.html\n\n")
	for _, s := range v.Sections {
		b.WriteString("- " + mdText(s.Title) + " (#" + mdText(s.ID) + ")\n")
	}
	return []byte(b.String())
}

// mdText escapes text for Markdown: every character that Markdown or the
// HTML it may pass through gives a meaning is backslash-escaped, so text
// from the extract (a header, a code) renders as written and harmless.
func mdText(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '\\', '`', '*', '_', '[', ']', '#', '|', '<', '>', '&', '~':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '\r', '\n':
			b.WriteByte(' ')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// mdTable renders a table as Markdown, every cell escaped.
func mdTable(t table) string {
	var b strings.Builder
	b.WriteString("|")
	for _, h := range t.Head {
		b.WriteString(" " + mdText(h) + " |")
	}
	b.WriteString("\n|")
	for i := range t.Head {
		if t.RightAt(i) {
			b.WriteString(" ---: |")
		} else {
			b.WriteString(" --- |")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		b.WriteString("|")
		for _, c := range t.Flat(r) {
			b.WriteString(" " + mdText(c) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}
