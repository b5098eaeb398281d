package report

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// The figures are hand-written SVG: a step function per stratum with a
// translucent 95% CI band, axes in days or years and 0–100 %, a legend and
// a numbers-at-risk table under the x axis, all in one <svg> so that the
// table stays aligned with the ticks on screen and in print.

// Figure geometry in SVG user units (px at 100% zoom).
const (
	figWidth   = 640.0
	plotLeft   = 100.0 // y-axis labels and at-risk row labels sit left of it
	plotRight  = 470.0 // the legend sits right of it
	plotTop    = 14.0
	plotBottom = 294.0
	legendX    = 486.0
	legendRow  = 18.0
	riskTitleY = plotBottom + 58
	riskRow0Y  = plotBottom + 76
	riskRow    = 15.0
	minStepPx  = 0.5 // steps closer than this in x are drawn as one
)

// palette holds distinguishable colours dark enough for text on white;
// curves past its length repeat it with a dashed line.
var palette = []string{
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
	"#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
}

// figCurve is one plotted stratum.
type figCurve struct {
	label string
	curve *Curve
}

// figure is one plot of an endpoint: its curves share axes.
type figure struct {
	id      string // fig-<endpoint>-<kind>, unique in the document; the <svg> is plot-<endpoint>-<kind>
	title   string
	km      bool // survival (falls from 1) rather than incidence
	horizon int  // days, > 0
	curves  []figCurve
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
		// The first step giving at most 8 intervals, preferring one that
		// ends the axis exactly at h (180 days: every 30).
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

// coord formats an SVG coordinate with one decimal.
func coord(x float64) string { return fixed(x, 1) }

// svgText escapes text for SVG character data and attribute values.
func svgText(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

// pathBuilder writes an SVG path of horizontal and vertical moves, merging
// moves shorter than the drawing resolution.
type pathBuilder struct {
	b    strings.Builder
	x, y float64 // pen position
}

func (p *pathBuilder) move(x, y float64) {
	p.b.WriteString("M" + coord(x) + " " + coord(y))
	p.x, p.y = x, y
}

// step draws the pen horizontally to x, then vertically to y; a horizontal
// move shorter than minStepPx is folded into the vertical one.
func (p *pathBuilder) step(x, y float64) {
	if math.Abs(x-p.x) >= minStepPx {
		p.b.WriteString("H" + coord(x))
		p.x = x
	}
	if coord(y) != coord(p.y) {
		p.b.WriteString("V" + coord(y))
		p.y = y
	}
}

// hline draws the pen horizontally to x.
func (p *pathBuilder) hline(x float64) {
	if coord(x) != coord(p.x) {
		p.b.WriteString("H" + coord(x))
		p.x = x
	}
}

// scaled is a curve in plot coordinates: the start level, the steps
// (x of the step, levels after it) and the x where the curve ends.
type scaled struct {
	x0, end          float64
	y0, lo0, hi0     float64
	xs, ys, los, his []float64
}

func (f *figure) scaleX(t float64) float64 {
	return plotLeft + t/float64(f.horizon)*(plotRight-plotLeft)
}

func scaleY(p float64) float64 {
	return plotBottom - p*(plotBottom-plotTop)
}

// clamp01 keeps a probability on the plot.
func clamp01(p float64) float64 { return math.Max(0, math.Min(1, p)) }

// scale maps a curve to plot coordinates up to the figure's horizon. Empty
// limits collapse the band onto the estimate. ok is false when the curve
// has nothing to draw.
func (f *figure) scale(c *Curve) (s scaled, ok bool) {
	start := 0.0
	if f.km {
		start = 1
	}
	s.x0 = f.scaleX(0)
	s.y0, s.lo0, s.hi0 = scaleY(start), scaleY(start), scaleY(start)
	last := -1
	for _, pt := range c.Points {
		if pt.Time < 0 || empty(pt.Estimate) {
			continue
		}
		if pt.Time > f.horizon {
			last = f.horizon
			break
		}
		est := clamp01(pt.Estimate)
		lo, hi := est, est
		if !empty(pt.Lower) && !empty(pt.Upper) {
			lo, hi = clamp01(pt.Lower), clamp01(pt.Upper)
		}
		s.xs = append(s.xs, f.scaleX(float64(pt.Time)))
		s.ys = append(s.ys, scaleY(est))
		s.los = append(s.los, scaleY(lo))
		s.his = append(s.his, scaleY(hi))
		last = pt.Time
	}
	if last <= 0 {
		return s, false // nothing right of day 0: an empty figure
	}
	s.end = f.scaleX(float64(last))
	return s, true
}

// linePath is the step function from day 0 to the curve's end.
func (s *scaled) linePath() string {
	var p pathBuilder
	p.move(s.x0, s.y0)
	for i := range s.xs {
		p.step(s.xs[i], s.ys[i])
	}
	p.hline(s.end)
	return p.b.String()
}

// bandPath is the closed CI band: the upper limit's steps forward, the
// lower limit's steps back.
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
	p.b.WriteString("Z")
	return p.b.String()
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

// svg renders the figure. It is only called with at least one curve.
func (f *figure) svg() string {
	ax := xAxis(f.horizon)
	f.horizon = ax.end
	height := riskRow0Y + float64(len(f.curves)-1)*riskRow + 10
	if h := plotTop + float64(len(f.curves))*legendRow + 10; h > height {
		height = h
	}
	var b strings.Builder
	w := func(ss ...string) {
		for _, s := range ss {
			b.WriteString(s)
		}
	}
	ytitle := "Cumulative incidence (%)"
	if f.km {
		ytitle = "Probability (%)"
	}
	id := "plot" + strings.TrimPrefix(f.id, "fig")
	w(`<svg class="curve" id="`, svgText(id), `" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `,
		coord(figWidth), " ", coord(height), `" width="`, coord(figWidth), `" height="`, coord(height),
		`" role="img" aria-labelledby="`, svgText(id), `-t" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="11">`, "\n")
	w(`<title id="`, svgText(id), `-t">`, svgText(f.title), "</title>\n")

	// Grid and y axis: 0–100 % every 20 %.
	w(`<g class="grid" stroke="#e3e3e3" stroke-width="1">`)
	for i := 0; i <= 5; i++ {
		y := coord(scaleY(float64(i) / 5))
		w(`<line x1="`, coord(plotLeft), `" y1="`, y, `" x2="`, coord(plotRight), `" y2="`, y, `"/>`)
	}
	w("</g>\n")
	w(`<g class="yaxis" text-anchor="end" fill="#333">`)
	for i := 0; i <= 5; i++ {
		y := scaleY(float64(i) / 5)
		w(`<text x="`, coord(plotLeft-6), `" y="`, coord(y+4), `">`, strconv.Itoa(20*i), "</text>")
	}
	w(`<text transform="translate(`, coord(plotLeft-44), " ", coord((plotTop+plotBottom)/2), `) rotate(-90)" text-anchor="middle">`, svgText(ytitle), "</text>")
	w("</g>\n")

	// x axis with ticks.
	w(`<g class="xaxis" fill="#333" text-anchor="middle">`)
	w(`<path d="M`, coord(plotLeft), " ", coord(plotBottom), "H", coord(plotRight), `" stroke="#333" fill="none"/>`)
	w(`<path d="M`, coord(plotLeft), " ", coord(plotTop), "V", coord(plotBottom), `" stroke="#333" fill="none"/>`)
	for i, t := range ax.ticks {
		x := coord(f.scaleX(float64(t)))
		w(`<path d="M`, x, " ", coord(plotBottom), "v5", `" stroke="#333"/>`)
		w(`<text x="`, x, `" y="`, coord(plotBottom+17), `">`, svgText(ax.labels[i]), "</text>")
	}
	w(`<text x="`, coord((plotLeft+plotRight)/2), `" y="`, coord(plotBottom+33), `">`, svgText(ax.title), "</text>")
	w("</g>\n")

	// Bands first, then lines on top so no band hides a line.
	type drawn struct {
		s     scaled
		color string
		dash  bool
	}
	ds := make([]drawn, len(f.curves))
	for i, fc := range f.curves {
		s, _ := f.scale(fc.curve)
		ds[i] = drawn{s, palette[i%len(palette)], i >= len(palette)}
	}
	// Many overlapping bands turn to mud: the more curves, the fainter.
	opacity := fixed(math.Max(0.06, 0.18-0.015*float64(len(ds))), 2)
	w(`<g class="bands">`)
	for i, d := range ds {
		w(`<path class="band" data-stratum="`, svgText(f.curves[i].label), `" d="`, d.s.bandPath(), `" fill="`, d.color, `" fill-opacity="`, opacity, `" stroke="none"/>`, "\n")
	}
	w("</g>\n")
	w(`<g class="lines" fill="none" stroke-width="1.8">`)
	for i, d := range ds {
		dash := ""
		if d.dash {
			dash = ` stroke-dasharray="6 3"`
		}
		w(`<path class="line" data-stratum="`, svgText(f.curves[i].label), `" d="`, d.s.linePath(), `" stroke="`, d.color, `"`, dash, "/>\n")
	}
	w("</g>\n")

	// Legend.
	w(`<g class="legend" fill="#222">`)
	for i, d := range ds {
		y := plotTop + float64(i)*legendRow
		dash := ""
		if d.dash {
			dash = ` stroke-dasharray="6 3"`
		}
		w(`<rect x="`, coord(legendX), `" y="`, coord(y+1), `" width="22" height="12" fill="`, d.color, `" fill-opacity="`, opacity, `"/>`)
		w(`<path d="M`, coord(legendX), " ", coord(y+7), `h22" stroke="`, d.color, `" stroke-width="1.8"`, dash, "/>")
		w(`<text x="`, coord(legendX+28), `" y="`, coord(y+11), `">`, svgText(f.curves[i].label),
			` <tspan fill="#666">(n=`, strconv.Itoa(f.curves[i].curve.N), ")</tspan></text>\n")
	}
	w("</g>\n")

	// Numbers at risk, one row per curve, one column per tick.
	w(`<g class="atrisk" text-anchor="middle">`)
	w(`<text x="`, coord(8), `" y="`, coord(riskTitleY), `" text-anchor="start" font-weight="bold" fill="#333">Number at risk</text>`, "\n")
	for i, d := range ds {
		y := coord(riskRow0Y + float64(i)*riskRow)
		w(`<text x="`, coord(plotLeft-30), `" y="`, y, `" text-anchor="end" fill="`, d.color, `" font-weight="bold">`, svgText(f.curves[i].label), "</text>")
		for _, t := range ax.ticks {
			w(`<text x="`, coord(f.scaleX(float64(t))), `" y="`, y, `" fill="#222">`, strconv.Itoa(atRisk(f.curves[i].curve, t)), "</text>")
		}
		w("\n")
	}
	w("</g>\n</svg>")
	return b.String()
}
