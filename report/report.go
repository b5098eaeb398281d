package report

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
)

//go:embed templates/index.html.tmpl templates/report.md.tmpl templates/analysis.html.tmpl templates/analysis.md.tmpl templates/changes.html.tmpl templates/changes.md.tmpl
var templateFS embed.FS

// The templates are parsed once; a parse error is a programming error.
var (
	htmlTmpl = htmltemplate.Must(htmltemplate.New("index.html.tmpl").ParseFS(templateFS, "templates/index.html.tmpl", "templates/analysis.html.tmpl", "templates/changes.html.tmpl"))
	mdTmpl   = texttemplate.Must(texttemplate.New("report.md.tmpl").Funcs(texttemplate.FuncMap{
		"cell": mdCell,
	}).ParseFS(templateFS, "templates/report.md.tmpl", "templates/analysis.md.tmpl", "templates/changes.md.tmpl"))
)

// Write renders d into dir/index.html and dir/report.md, creating dir if
// needed. The same d always gives the same bytes.
func Write(dir string, d *Data) error {
	h, m, err := Render(d)
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

// Render returns the HTML and Markdown reports of d.
func Render(d *Data) (html, md []byte, err error) {
	v := buildView(d)
	var hb, mb bytes.Buffer
	if err := htmlTmpl.Execute(&hb, v); err != nil {
		return nil, nil, fmt.Errorf("report: index.html: %w", err)
	}
	if err := mdTmpl.Execute(&mb, v); err != nil {
		return nil, nil, fmt.Errorf("report: report.md: %w", err)
	}
	return hb.Bytes(), mb.Bytes(), nil
}

// mdCell makes text safe inside a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\\\")
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}
