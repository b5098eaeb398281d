// Package estimate computes marrow's survival statistics from aggregated
// risk tables, in pure Go, agreeing with R's survival (survfit, quantile,
// survdiff) and cmprsk (cuminc) to rounding.
//
// # Input
//
// Every estimator reads one stratum's risk table, []RiskRow: one row per
// distinct day on which a subject has the event of interest (NEvent), a
// competing event (NCompete) or is censored (NCensor), with NRisk the
// subjects whose time is on or after that day. The table is all the
// estimators need: every one of them walks the distinct times of the
// sorted data with the counts at each time, never an individual subject.
// Tables are checked (distinct times, NRisk falling by exactly those who
// left, nobody left after the last row) and a bad one is a *TableError.
//
// # Kaplan–Meier (NewKaplanMeier)
//
// S(t) = Π_{t_j ≤ t} (1 − d_j/n_j), the product-limit estimate (Kaplan &
// Meier 1958). Its standard error is Greenwood's: se(log S) =
// sqrt(Σ d_j/(n_j(n_j − d_j))), and StdErr = S·se(log S), which is what
// summary.survfit reports as std.err. The 95% interval is survfit_confint's
// for conf.type "log-log" (default; Kalbfleisch & Prentice 1980, §1.3),
// "log" or "plain" (Klein & Moeschberger 2003, eq. 4.3.1), with z = Z95.
// Where S = 0 the Greenwood sum is infinite: StdErr and the limits are NaN,
// as R's NA. Where S = 1 StdErr is 0 and the limits are NaN (SPEC §3; R's
// log-log gives NA there too, its log and plain give [1, 1]).
//
// # Cumulative incidence (NewCumulativeIncidence)
//
// The Aalen–Johansen estimate F(t) = Σ_{t_j ≤ t} S(t_j−) d1_j/n_j, with S
// the all-cause Kaplan–Meier, and the variance of cmprsk's Fortran routine
// cinc (Gray; the Aalen-type estimator of Pepe 1991 / Betensky & Schoenfeld
// 2001). Walking the times with r at risk, d1 events of interest and d2
// competing events, S⁻ the all-cause KM before and S after the time:
//
//	F += S⁻ d1/r
//	w(k) = S⁻² c(k) k/r², c(k) = 1 − (k−1)/(r−1) for k > 1 tied events, else 1
//	competing (d2 > 0, S > 0): a = 1/S, b = F/S
//	events    (d1 > 0):        a = 1/S (0 if S = 0), b = 1 + a·F
//	v1 += b² w, v2 += a·b·w, v3 += a² w
//	Var F = v1 + F² v3 − 2 F v2    (updated at times with d1 > 0 only)
//
// The interval is the log(−log) one of SPEC §3,
// F^exp(±z·sqrt(Var)/(F·log F)); F = 0 gives StdErr 0 and NaN limits,
// F = 1 gives limits [1, 1].
//
// # Landmarks (Curve.At)
//
// The value of the step function at day t, like summary.survfit(times,
// extend = FALSE) and cmprsk::timepoints: NaN past the stratum's last time,
// never carried forward. NRisk is survfit's n.risk at t.
//
// # Medians (Curve.Median)
//
// quantile.survfit(fit, 0.5): where a horizontal line at 1/2 meets the
// curve, with the midpoint rule where the curve is flat at 1/2 (within
// sqrt(machine epsilon)) and the confidence limits read the same way off
// the lower and upper confidence curves (Brookmeyer & Crowley 1982).
//
// # Tests (LogRank, Gray)
//
// LogRank is survdiff with rho = 0 (Mantel 1966; Peto & Peto 1972): per
// group observed minus expected deaths and the hypergeometric covariance
// (survdiff2.c), groups with no expected deaths dropped, the statistic a
// quadratic form through solve(), df = groups with expected > 0, minus 1
// (print.survdiff). Gray is cmprsk's crstm with rho = 0 (Gray 1988): the
// score and variance comparing the subdistribution hazards of the event of
// interest, inverted through R's qr() so that a rank-deficient variance
// gives cuminc's statistic −1; df = non-empty groups − 1. p-values are the
// upper chi-square tail, computed in closed form for integer df
// (Abramowitz & Stegun 26.4.4–5), so no dependency is needed.
//
// Empty values are NaN throughout; writers turn NaN into an empty field.
// All arithmetic follows the R and Fortran sources operation by operation
// where that matters for the last bits; see the function comments.
//
// References: survival (Therneau) R/survfitKM.R, R/survfit.R
// (survfit_confint), R/summary.survfit.R, R/quantile.survfit.R,
// R/survdiff.R, src/survfitkm.c, src/survdiff2.c; cmprsk (Gray) R/cmprsk.R
// (cuminc, timepoints), src/cincsub.f, src/crstm.f, src/tpoi.f.
package estimate
