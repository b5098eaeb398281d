package report

import (
	"math"
	"strconv"
)

// empty reports whether x means "not estimable" (NaN or ±Inf).
func empty(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

// dash is what a table shows for a value that is not estimable.
const dash = "—"

// fixed formats x with prec decimals, never as "-0.0".
func fixed(x float64, prec int) string {
	s := strconv.FormatFloat(x, 'f', prec, 64)
	if x < 0 {
		if z := strconv.FormatFloat(0, 'f', prec, 64); s == "-"+z {
			return z
		}
	}
	return s
}

// pct formats a probability as a percentage with one decimal, without the
// sign: 0.6321 -> "63.2".
func pct(p float64) string {
	if empty(p) {
		return dash
	}
	return fixed(100*p, 1)
}

// pctCI formats an estimate with its 95% limits in percent:
// "63.2 (55.1–70.3)". Empty limits (S = 1, incidence 0) leave the
// estimate alone.
func pctCI(est, lo, hi float64) string {
	if empty(est) {
		return dash
	}
	s := pct(est)
	if empty(lo) || empty(hi) {
		return s
	}
	return s + " (" + pct(lo) + "–" + pct(hi) + ")"
}

// days formats a time in whole days; fractional medians (survfit averages
// two times in a tie) keep one decimal.
func days(x float64) string {
	if empty(x) {
		return dash
	}
	if x == math.Trunc(x) {
		return fixed(x, 0)
	}
	return fixed(x, 1)
}

// medianCI formats a median in days with its limits: "412 (300–NR)";
// "not reached" when the median is empty.
func medianCI(m, lo, hi float64) string {
	if empty(m) {
		return "not reached"
	}
	l, h := "NR", "NR"
	if !empty(lo) {
		l = days(lo)
	}
	if !empty(hi) {
		h = days(hi)
	}
	return days(m) + " (" + l + "–" + h + ")"
}

// pvalue formats a p-value: "<0.001" below one in a thousand, three
// decimals otherwise.
func pvalue(p float64) string {
	switch {
	case empty(p):
		return dash
	case p < 0.001:
		return "<0.001"
	default:
		return fixed(p, 3)
	}
}

// stat formats a test statistic with two decimals.
func stat(x float64) string {
	if empty(x) {
		return dash
	}
	return fixed(x, 2)
}
