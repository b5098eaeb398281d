package report

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// trendSVG draws the first page's trend: two panels (1-year OS, 1-year
// NRM), x = year of transplant, one line per transplant type with its 95%
// limits as whiskers. Years whose type has fewer than min_cell transplants
// are left out (their count is not printed).
func trendSVG(r *renderer, pts []TrendPoint) (string, string) {
	type key struct{ ep, tt string }
	series := map[key][]TrendPoint{}
	minY, maxY := math.MaxInt, math.MinInt
	leftOut := 0
	for _, p := range pts {
		if p.TransplantType == "*" {
			continue
		}
		if r.small(p.N) {
			leftOut++
			continue
		}
		if empty(p.Estimate) {
			continue // no follow-up to 1 year yet
		}
		k := key{p.Endpoint, p.TransplantType}
		series[k] = append(series[k], p)
		minY, maxY = min(minY, p.Year), max(maxY, p.Year)
	}
	if len(series) == 0 {
		return "", "No year of transplant has enough transplants to plot."
	}
	if maxY == minY {
		maxY = minY + 1
	}
	var b strings.Builder
	w := func(ss ...string) {
		for _, s := range ss {
			b.WriteString(s)
		}
	}
	const pw, ph, top, left, gap = 250.0, 150.0, 30.0, 60.0, 70.0
	height := top + ph + 50
	w(`<svg class="trend" id="plot-trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 `, coord(height), `" width="640" height="`, coord(height),
		`" role="img" aria-labelledby="plot-trend-t" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="10">`, "\n")
	w(`<title id="plot-trend-t">One-year outcomes by year of transplant</title>`, "\n")
	types := []string{"ALLO", "AUTO"}
	for pi, ep := range []struct{ name, title string }{{"os", "Overall survival at 1 y (%)"}, {"nrm", "Non-relapse mortality at 1 y (%)"}} {
		x0 := left + float64(pi)*(pw+gap)
		fr := frame{x0, x0 + pw, top, top + ph, 1, 1}
		xOf := func(y int) float64 { return x0 + float64(y-minY)/float64(maxY-minY)*pw }
		w(`<g class="panel" data-stratum="`, ep.name, `">`, "\n")
		w(`<text x="`, coord(x0), `" y="`, coord(top-10), `" font-weight="bold">`, svgText(ep.title), "</text>\n")
		w(`<g class="grid" stroke="#e3e3e3">`)
		for v := 0; v <= 100; v += 20 {
			y := coord(fr.y(float64(v) / 100))
			w(`<line x1="`, coord(x0), `" y1="`, y, `" x2="`, coord(x0+pw), `" y2="`, y, `"/>`)
		}
		w("</g>\n", `<g class="yaxis" text-anchor="end" fill="#333">`)
		for v := 0; v <= 100; v += 20 {
			w(`<text x="`, coord(x0-5), `" y="`, coord(fr.y(float64(v)/100)+3), `">`, strconv.Itoa(v), "</text>")
		}
		w("</g>\n", `<g class="xaxis" text-anchor="middle" fill="#333">`)
		step := max(1, (maxY-minY+5)/6)
		for y := minY; y <= maxY; y += step {
			w(`<text x="`, coord(xOf(y)), `" y="`, coord(top+ph+14), `">`, strconv.Itoa(y), "</text>")
		}
		w(`<path d="M`, coord(x0), " ", coord(top+ph), "H", coord(x0+pw), `" stroke="#333"/>`)
		w("</g>\n")
		for ti, tt := range types {
			s := series[key{ep.name, tt}]
			if len(s) == 0 {
				continue
			}
			sort.Slice(s, func(i, j int) bool { return s[i].Year < s[j].Year })
			color := palette[ti]
			var d strings.Builder
			for i, p := range s {
				cmd := "L"
				if i == 0 {
					cmd = "M"
				}
				d.WriteString(cmd + coord(xOf(p.Year)) + " " + coord(fr.y(p.Estimate)))
				if !empty(p.Lower) && !empty(p.Upper) {
					w(`<path class="whisker" d="M`, coord(xOf(p.Year)), " ", coord(fr.y(p.Lower)), "V", coord(fr.y(p.Upper)), `" stroke="`, color, `" stroke-opacity="0.5"/>`)
				}
			}
			w(`<path class="line" data-stratum="`, tt, `" d="`, d.String(), `" stroke="`, color, `" stroke-width="1.8" fill="none"/>`, "\n")
		}
		w("</g>\n")
	}
	w(`<g class="legend">`)
	for ti, tt := range types {
		x := left + float64(ti)*90
		w(`<path d="M`, coord(x), " ", coord(height-12), `h20" stroke="`, palette[ti], `" stroke-width="1.8"/>`, `<text x="`, coord(x+24), `" y="`, coord(height-8), `">`, tt, "</text>")
	}
	w("</g>\n</svg>")
	note := "Estimates at one year with 95% limits (whiskers), by year of transplant."
	if leftOut > 0 {
		note += " Years with fewer than " + strconv.Itoa(r.minCell()) + " transplants of a type are not plotted."
	}
	return b.String(), note
}
