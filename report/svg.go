package report

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The figures are hand-written SVG: a step function per stratum with a
// translucent 95% CI band, axes in days or years, a legend and a
// numbers-at-risk table under the x axis, all in one <svg> so that the
// table stays aligned with the ticks on screen and in print. At most six
// curves share a plot; more groups are drawn as small multiples, one panel
// per group with the pooled curve in grey behind it, all panels on the
// same axes (SPEC §4: each curve a <path class="line" data-stratum>, the
// grey one "line reference", each panel a <g class="panel">).

// maxCurves is the most curves one plot or panel shows besides its
// reference.
const maxCurves = 6

// Figure geometry in SVG user units (px at 100% zoom).
const (
	figWidth   = 640.0
	plotLeft   = 100.0 // y-axis labels and at-risk row labels sit left of it
	plotRight  = 470.0 // the legend sits right of it
	plotTop    = 14.0
	plotBottom = 294.0
	legendX    = 486.0
	legendRow  = 18.0
	riskRow    = 15.0
	minStepPx  = 0.5 // steps closer than this in x are drawn as one

	panelCols = 3
	panelW    = 150.0 // plot width of a panel
	panelH    = 110.0 // plot height of a panel
	panelGapX = 40.0
	panelGapY = 58.0
	panelLeft = 70.0
	panelTop  = 40.0
)

// palette is Okabe & Ito's colour-blind-safe qualitative palette (Color
// Universal Design, 2008) without its yellow and black, in an order whose
// neighbours differ most; grey is kept for the reference curve.
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"}

const refColor = "#9a9a9a"

// figCurve is one plotted stratum with its printed numbers.
type figCurve struct {
	label string
	curve *Curve
	n     string   // legend count, through the small-cell rule
	risk  []string // numbers at risk per x tick, through the rule
}

// figure is one plot of an endpoint: its curves share axes.
type figure struct {
	id      string // fig-<endpoint>-<kind>; the <svg> is plot-<endpoint>-<kind>
	title   string
	km      bool    // survival (falls from 1) rather than incidence
	horizon int     // days, > 0
	yTop    float64 // top of the y axis, probability in (0, 1]
	yTitle  string
	curves  []figCurve
	ref     *Curve // small multiples: the pooled curve behind each panel
	refName string
	test    string // the test's result, printed on the figure
	ax      axis
	paths   *pathCache // nil: every path built anew
}

// axis is the x axis: tick days, their labels, and the axis end in days.
type axis struct {
	ticks  []int
	labels []string
	end    int
	title  string
}

// xAxis chooses ticks for a horizon in days: at most 8 day ticks up to
// 400 days, whole years beyond.
func xAxis(h int) axis {
	if h < 1 {
		h = 1
	}
	var a axis
	if h <= 400 {
		step := 0
		for _, exact := range []bool{true, false} {
			for _, s := range []int{5, 10, 20, 25, 30, 50, 60, 90, 100} {
				if (h+s-1)/s <= 8 && (!exact || h%s == 0) {
					step = s
					break
				}
			}
			if step > 0 {
				break
			}
		}
		a.end = (h + step - 1) / step * step
		for t := 0; t <= a.end; t += step {
			a.ticks = append(a.ticks, t)
			a.labels = append(a.labels, strconv.Itoa(t))
		}
		a.title = "Days since transplant"
		return a
	}
	years := 1
	for _, k := range []int{1, 2, 5, 10, 20} {
		years = k
		if (h+365*k-1)/(365*k) <= 10 {
			break
		}
	}
	step := 365 * years
	a.end = (h + step - 1) / step * step
	for t := 0; t <= a.end; t += step {
		a.ticks = append(a.ticks, t)
		a.labels = append(a.labels, strconv.Itoa(t/365))
	}
	a.title = "Years since transplant"
	return a
}

// yTicks are the y-axis ticks in percent up to top percent.
func yTicks(top float64) []int {
	step := 20
	if top <= 50 {
		step = 10
	}
	var out []int
	for v := 0; float64(v) <= top+1e-9; v += step {
		out = append(out, v)
	}
	return out
}

// incidenceTop is the y-axis top of a cumulative incidence figure: 10
// points above the largest upper limit drawn, rounded up to a multiple of
// 10, at most 100%.
func incidenceTop(maxUpper float64) float64 {
	top := math.Ceil((100*maxUpper+10)/10-1e-9) * 10
	return math.Min(100, math.Max(10, top)) / 100
}

// coord formats an SVG coordinate with one decimal.
func coord(x float64) string { return fixed(x, 1) }

// svgEscaper escapes text for SVG character data and attribute values;
// built once (a Replacer builds its tables at its first use).
var svgEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")

// svgText escapes text for SVG character data and attribute values.
func svgText(s string) string { return svgEscaper.Replace(s) }

// pathBuilder writes an SVG path of horizontal and vertical moves, merging
// moves shorter than the drawing resolution. It keeps the pen's position
// and, for the comparisons, its y as printed (coord), so each coordinate
// is formatted once, into b, without a string of its own.
type pathBuilder struct {
	b    []byte
	x, y float64
	yc   [24]byte // coord(y)
	ycn  int
}

// appendCoord appends coord(x) to b.
func appendCoord(b []byte, x float64) []byte {
	n := len(b)
	b = strconv.AppendFloat(b, x, 'f', 1, 64)
	if x < 0 && string(b[n:]) == "-0.0" {
		b = append(b[:n], "0.0"...)
	}
	return b
}

func (p *pathBuilder) setY(y float64) {
	p.y = y
	p.ycn = copy(p.yc[:], appendCoord(p.yc[:0], y))
}

func (p *pathBuilder) move(x, y float64) {
	p.b = append(p.b, 'M')
	p.b = appendCoord(p.b, x)
	p.b = append(p.b, ' ')
	p.b = appendCoord(p.b, y)
	p.x = x
	p.setY(y)
}

func (p *pathBuilder) step(x, y float64) {
	if math.Abs(x-p.x) >= minStepPx {
		p.b = append(p.b, 'H')
		p.b = appendCoord(p.b, x)
		p.x = x
	}
	var buf [24]byte
	if c := appendCoord(buf[:0], y); string(c) != string(p.yc[:p.ycn]) {
		p.b = append(p.b, 'V')
		p.b = append(p.b, c...)
		p.y = y
		p.ycn = copy(p.yc[:], c)
	}
}

func (p *pathBuilder) hline(x float64) {
	if coord(x) != coord(p.x) {
		p.b = append(p.b, 'H')
		p.b = appendCoord(p.b, x)
		p.x = x
	}
}

func (p *pathBuilder) String() string { return string(p.b) }

// frame maps days and probabilities into one plot rectangle.
type frame struct {
	left, right, top, bottom float64
	horizon                  int
	yTop                     float64
}

func (f frame) x(t float64) float64 { return f.left + t/float64(f.horizon)*(f.right-f.left) }
func (f frame) y(p float64) float64 {
	return f.bottom - math.Min(p, f.yTop)/f.yTop*(f.bottom-f.top)
}

// scaled is a curve in plot coordinates.
type scaled struct {
	x0, end          float64
	y0, lo0, hi0     float64
	xs, ys, los, his []float64
}

func clamp01(p float64) float64 { return math.Max(0, math.Min(1, p)) }

// scale maps a curve into fr up to its horizon. ok is false when the curve
// has nothing to draw.
func scale(fr frame, km bool, c *Curve) (s scaled, ok bool) {
	start := 0.0
	if km {
		start = 1
	}
	s.x0 = fr.x(0)
	s.y0, s.lo0, s.hi0 = fr.y(start), fr.y(start), fr.y(start)
	last := -1
	for _, pt := range c.Points {
		if pt.Time < 0 || empty(pt.Estimate) {
			continue
		}
		if pt.Time > fr.horizon {
			last = fr.horizon
			break
		}
		est := clamp01(pt.Estimate)
		lo, hi := est, est
		if !empty(pt.Lower) && !empty(pt.Upper) {
			lo, hi = clamp01(pt.Lower), clamp01(pt.Upper)
		}
		s.xs = append(s.xs, fr.x(float64(pt.Time)))
		s.ys = append(s.ys, fr.y(est))
		s.los = append(s.los, fr.y(lo))
		s.his = append(s.his, fr.y(hi))
		last = pt.Time
	}
	if last <= 0 {
		return s, false
	}
	s.end = fr.x(float64(last))
	return s, true
}

// pathCache keeps the paths drawn, so that the passes of one report
// (recording, printing, the audit's marked printing: they draw the same
// curves in the same frames) build each path once. A curve is known by its
// points (copies of a Curve share them). Safe for concurrent use; a nil
// cache builds every path.
type pathCache struct {
	mu sync.Mutex
	m  map[pathKey]pathEntry
}

type pathKey struct {
	pts  *Point
	n    int
	fr   frame
	km   bool
	band bool
}

type pathEntry struct {
	d  string
	ok bool
}

func newPathCache() *pathCache { return &pathCache{m: map[pathKey]pathEntry{}} }

// path is c's line (or band) path in fr, and scale's ok.
func (pc *pathCache) path(fr frame, km bool, c *Curve, band bool) (string, bool) {
	build := func() pathEntry {
		s, ok := scale(fr, km, c)
		if band {
			return pathEntry{s.bandPath(), ok}
		}
		return pathEntry{s.linePath(), ok}
	}
	if pc == nil || len(c.Points) == 0 {
		e := build()
		return e.d, e.ok
	}
	k := pathKey{&c.Points[0], len(c.Points), fr, km, band}
	pc.mu.Lock()
	e, hit := pc.m[k]
	pc.mu.Unlock()
	if !hit {
		e = build()
		pc.mu.Lock()
		pc.m[k] = e
		pc.mu.Unlock()
	}
	return e.d, e.ok
}

// drawable reports whether c has anything to draw in fr (scale's ok).
func (pc *pathCache) drawable(fr frame, km bool, c *Curve) bool {
	_, ok := pc.path(fr, km, c, false)
	return ok
}

func (s *scaled) linePath() string {
	var p pathBuilder
	p.move(s.x0, s.y0)
	for i := range s.xs {
		p.step(s.xs[i], s.ys[i])
	}
	p.hline(s.end)
	return p.String()
}

func (s *scaled) bandPath() string {
	var p pathBuilder
	p.move(s.x0, s.hi0)
	for i := range s.xs {
		p.step(s.xs[i], s.his[i])
	}
	p.hline(s.end)
	n := len(s.xs)
	if n > 0 {
		p.step(s.end, s.los[n-1])
	} else {
		p.step(s.end, s.lo0)
	}
	for i := n - 1; i >= 0; i-- {
		prev := s.lo0
		if i > 0 {
			prev = s.los[i-1]
		}
		p.step(s.xs[i], prev)
	}
	p.hline(s.x0)
	p.b = append(p.b, 'Z')
	return p.String()
}

// maxUpper is the largest upper limit (or estimate) of c up to horizon.
func maxUpper(c *Curve, horizon int) float64 {
	m := 0.0
	for _, p := range c.Points {
		if p.Time > horizon {
			break
		}
		for _, v := range []float64{p.Estimate, p.Upper} {
			if !empty(v) && v > m {
				m = v
			}
		}
	}
	return math.Min(m, 1)
}

// atRisk is the number at risk at day t: the n_risk of the curve's first
// time at or after t (every distinct time is a point), 0 past its end.
func atRisk(c *Curve, t int) int {
	i := sort.Search(len(c.Points), func(i int) bool { return c.Points[i].Time >= t })
	if i == len(c.Points) {
		return 0
	}
	return c.Points[i].NRisk
}

type svgWriter struct{ b strings.Builder }

func (w *svgWriter) w(ss ...string) {
	for _, s := range ss {
		w.b.WriteString(s)
	}
}

// axes draws grid, axes and tick labels of one frame; labels can be left
// off for inner panels.
func (w *svgWriter) axes(fr frame, ax axis, yLabels, xLabels bool, font string) {
	yt := yTicks(100 * fr.yTop)
	w.w(`<g class="grid" stroke="#e3e3e3" stroke-width="1">`)
	for _, v := range yt {
		y := coord(fr.y(float64(v) / 100))
		w.w(`<line x1="`, coord(fr.left), `" y1="`, y, `" x2="`, coord(fr.right), `" y2="`, y, `"/>`)
	}
	w.w("</g>\n")
	if yLabels {
		w.w(`<g class="yaxis" text-anchor="end" fill="#333"`, font, `>`)
		for _, v := range yt {
			w.w(`<text x="`, coord(fr.left-6), `" y="`, coord(fr.y(float64(v)/100)+4), `">`, strconv.Itoa(v), "</text>")
		}
		w.w("</g>\n")
	}
	w.w(`<g class="xaxis" fill="#333" text-anchor="middle"`, font, `>`)
	w.w(`<path d="M`, coord(fr.left), " ", coord(fr.bottom), "H", coord(fr.right), `" stroke="#333" fill="none"/>`)
	w.w(`<path d="M`, coord(fr.left), " ", coord(fr.top), "V", coord(fr.bottom), `" stroke="#333" fill="none"/>`)
	for i, t := range ax.ticks {
		x := coord(fr.x(float64(t)))
		w.w(`<path d="M`, x, " ", coord(fr.bottom), "v4", `" stroke="#333"/>`)
		if xLabels {
			w.w(`<text x="`, x, `" y="`, coord(fr.bottom+15), `">`, svgText(ax.labels[i]), "</text>")
		}
	}
	w.w("</g>\n")
}

// curveMarkup draws a curve's band (unless reference) and line.
func (w *svgWriter) curveMarkup(line, band, label, color string, reference bool, opacity string) {
	if reference {
		w.w(`<path class="line reference" data-stratum="`, svgText(label), `" d="`, line, `" stroke="`, refColor, `" stroke-width="1.4" fill="none"/>`, "\n")
		return
	}
	w.w(`<path class="band" data-stratum="`, svgText(label), `" d="`, band, `" fill="`, color, `" fill-opacity="`, opacity, `" stroke="none"/>`, "\n")
	w.w(`<path class="line" data-stratum="`, svgText(label), `" d="`, line, `" stroke="`, color, `" stroke-width="1.8" fill="none"/>`, "\n")
}

// svg renders the figure: one plot, or small multiples when it has more
// curves than maxCurves (or a reference). It is only called with at least
// one curve that scales.
func (f *figure) svg() string {
	f.ax = xAxis(f.horizon)
	f.horizon = f.ax.end
	if f.ref != nil {
		return f.panelsSVG()
	}
	return f.plotSVG()
}

func (f *figure) open(w *svgWriter, height float64) string {
	id := "plot" + strings.TrimPrefix(f.id, "fig")
	w.w(`<svg class="curve" id="`, svgText(id), `" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `,
		coord(figWidth), " ", coord(height), `" width="`, coord(figWidth), `" height="`, coord(height),
		`" role="img" aria-labelledby="`, svgText(id), `-t" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="11">`, "\n")
	w.w(`<title id="`, svgText(id), `-t">`, svgText(f.title), "</title>\n")
	return id
}

// riskTable draws the numbers at risk, one row per curve, one column per
// tick of frame fr, from y0 on.
func (f *figure) riskTable(w *svgWriter, fr frame, y0 float64, colors []string, tickRow bool) {
	w.w(`<g class="atrisk" text-anchor="middle">`)
	w.w(`<text x="8" y="`, coord(y0), `" text-anchor="start" font-weight="bold" fill="#333">Number at risk</text>`, "\n")
	if tickRow {
		// Small multiples: the table's own time labels, under the title.
		y0 += 15
		w.w(`<text x="`, coord(fr.left-30), `" y="`, coord(y0), `" text-anchor="end" fill="#666">`, svgText(strings.TrimSuffix(f.ax.title, " since transplant")), "</text>")
		for i, t := range f.ax.ticks {
			w.w(`<text x="`, coord(fr.x(float64(t))), `" y="`, coord(y0), `" fill="#666">`, svgText(f.ax.labels[i]), "</text>")
		}
		w.w("\n")
	}
	for i, fc := range f.curves {
		y := coord(y0 + 18 + float64(i)*riskRow)
		w.w(`<text x="`, coord(fr.left-30), `" y="`, y, `" text-anchor="end" fill="`, colors[i], `" font-weight="bold">`, svgText(fc.label), "</text>")
		for k, t := range f.ax.ticks {
			w.w(`<text x="`, coord(fr.x(float64(t))), `" y="`, y, `" fill="#222">`, svgText(fc.risk[k]), "</text>")
		}
		w.w("\n")
	}
	w.w("</g>\n")
}

func (f *figure) plotSVG() string {
	var w svgWriter
	fr := frame{plotLeft, plotRight, plotTop, plotBottom, f.horizon, f.yTop}
	riskY := plotBottom + 58
	height := riskY + 18 + float64(len(f.curves)-1)*riskRow + 10
	legendEnd := plotTop + float64(len(f.curves))*legendRow
	if f.test != "" {
		legendEnd += 2 * legendRow
	}
	if legendEnd+10 > height {
		height = legendEnd + 10
	}
	f.open(&w, height)
	f.axes(&w, fr)
	opacity := fixed(math.Max(0.08, 0.18-0.015*float64(len(f.curves))), 2)
	colors := make([]string, len(f.curves))
	for i := range f.curves {
		colors[i] = palette[i%len(palette)]
	}
	w.w(`<g class="bands">`)
	for i, fc := range f.curves {
		band, _ := f.paths.path(fr, f.km, fc.curve, true)
		w.w(`<path class="band" data-stratum="`, svgText(fc.label), `" d="`, band, `" fill="`, colors[i], `" fill-opacity="`, opacity, `" stroke="none"/>`, "\n")
	}
	w.w("</g>\n")
	w.w(`<g class="lines" fill="none" stroke-width="1.8">`)
	for i, fc := range f.curves {
		line, _ := f.paths.path(fr, f.km, fc.curve, false)
		w.w(`<path class="line" data-stratum="`, svgText(fc.label), `" d="`, line, `" stroke="`, colors[i], `"/>`, "\n")
	}
	w.w("</g>\n")
	w.w(`<g class="legend" fill="#222">`)
	for i, fc := range f.curves {
		y := plotTop + float64(i)*legendRow
		w.w(`<rect x="`, coord(legendX), `" y="`, coord(y+1), `" width="22" height="12" fill="`, colors[i], `" fill-opacity="`, opacity, `"/>`)
		w.w(`<path d="M`, coord(legendX), " ", coord(y+7), `h22" stroke="`, colors[i], `" stroke-width="1.8"/>`)
		w.w(`<text x="`, coord(legendX+28), `" y="`, coord(y+11), `">`, svgText(fc.label),
			` <tspan fill="#666">(n = `, svgText(fc.n), ")</tspan></text>\n")
	}
	if f.test != "" {
		// Two lines in the legend column: the result, then what it compares.
		y := plotTop + float64(len(f.curves))*legendRow + 14
		first, rest, _ := strings.Cut(f.test, " (")
		w.w(`<text class="pvalue" x="`, coord(legendX), `" y="`, coord(y), `" font-weight="bold">`, svgText(first))
		if rest != "" {
			w.w(`<tspan x="`, coord(legendX), `" dy="14" font-weight="normal" fill="#555">(`, svgText(rest), `</tspan>`)
		}
		w.w("</text>\n")
	}
	w.w("</g>\n")
	f.riskTable(&w, fr, riskY, colors, false)
	w.w("</svg>")
	return w.b.String()
}

// axes draws the single plot's axes with titles.
func (f *figure) axes(w *svgWriter, fr frame) {
	w.axes(fr, f.ax, true, true, "")
	w.w(`<text transform="translate(`, coord(fr.left-44), " ", coord((fr.top+fr.bottom)/2), `) rotate(-90)" text-anchor="middle" fill="#333">`, svgText(f.yTitle), "</text>\n")
	w.w(`<text x="`, coord((fr.left+fr.right)/2), `" y="`, coord(fr.bottom+33), `" text-anchor="middle" fill="#333">`, svgText(f.ax.title), "</text>\n")
}

// panelsSVG draws one panel per curve with the reference behind it.
func (f *figure) panelsSVG() string {
	var w svgWriter
	rows := (len(f.curves) + panelCols - 1) / panelCols
	gridBottom := panelTop + float64(rows)*(panelH+panelGapY) - panelGapY
	riskY := gridBottom + 52
	height := riskY + 15 + 18 + float64(len(f.curves)-1)*riskRow + 10
	f.open(&w, height)
	// The figure's own header: reference key and test.
	w.w(`<g class="key" fill="#222">`)
	w.w(`<path d="M`, coord(panelLeft), " 12h22", `" stroke="`, refColor, `" stroke-width="1.4"/>`)
	w.w(`<text x="`, coord(panelLeft+28), `" y="16">`, svgText(f.refName), ` (grey, in every panel)</text>`)
	if f.test != "" {
		w.w(`<text class="pvalue" x="`, coord(figWidth-8), `" y="16" text-anchor="end" font-weight="bold">`, svgText(f.test), "</text>")
	}
	w.w("</g>\n")
	colors := make([]string, len(f.curves))
	for i, fc := range f.curves {
		colors[i] = palette[0]
		col, rw := i%panelCols, i/panelCols
		left := panelLeft + float64(col)*(panelW+panelGapX)
		top := panelTop + float64(rw)*(panelH+panelGapY)
		fr := frame{left, left + panelW, top, top + panelH, f.horizon, f.yTop}
		w.w(`<g class="panel" data-stratum="`, svgText(fc.label), `">`, "\n")
		w.w(`<text x="`, coord(left), `" y="`, coord(top-6), `" font-weight="bold" fill="#222">`, svgText(fc.label),
			` <tspan fill="#666" font-weight="normal">(n = `, svgText(fc.n), ")</tspan></text>\n")
		w.axes(fr, f.ax, col == 0, true, ` font-size="9"`)
		if line, ok := f.paths.path(fr, f.km, f.ref, false); ok {
			w.curveMarkup(line, "", f.refName, refColor, true, "")
		}
		line, _ := f.paths.path(fr, f.km, fc.curve, false)
		band, _ := f.paths.path(fr, f.km, fc.curve, true)
		w.curveMarkup(line, band, fc.label, colors[i], false, "0.18")
		w.w("</g>\n")
	}
	// Shared axis titles.
	w.w(`<text transform="translate(`, coord(panelLeft-52), " ", coord((panelTop+gridBottom)/2), `) rotate(-90)" text-anchor="middle" fill="#333">`, svgText(f.yTitle), "</text>\n")
	w.w(`<text x="`, coord(figWidth/2+20), `" y="`, coord(gridBottom+32), `" text-anchor="middle" fill="#333">`, svgText(f.ax.title), "</text>\n")
	// Numbers at risk on the first panel's time scale, full width.
	fr := frame{plotLeft, plotRight, 0, 0, f.horizon, f.yTop}
	f.riskTable(&w, fr, riskY, colors, true)
	w.w("</svg>")
	return w.b.String()
}
