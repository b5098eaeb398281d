// Package centre benchmarks transplant centres (SPEC §6): each centre's
// 1-year overall survival and non-relapse mortality against what the
// registry's case mix predicts for its own transplants, with funnel-plot
// control limits and Clark's follow-up completeness. Pure Go; the numbers
// agree with R's survival::pseudo and geepack::geese (testdata/r/centres.R).
//
// # Risk model (Benchmark)
//
// The method of Logan, Nelson & Klein (2008, "Analyzing center specific outcomes in hematopoietic cell transplantation", Lifetime Data Anal 14:389–404) that
// the CIBMTR centre-specific survival analysis uses: regression on
// pseudo-values of the registry-wide 1-year estimate.
//
//   - Pseudo-values (PseudoKM, PseudoAJ): the infinitesimal-jackknife
//     pseudo-values of survival::pseudo(fit, times = 365) — the estimate
//     plus n times each subject's influence on it — for the Kaplan–Meier
//     survival (os) and the Aalen–Johansen incidence of the multi-state fit
//     survfit(Surv(time, factor(status)) ~ 1) (nrm, relapse competing). The
//     influences are prefix sums over the distinct event times, so the cost
//     is one sort, O(n log n), not n refits (formulas beside the code; the
//     sources are survival's R/residuals.survfit.R, rsurvpart1, and
//     src/survfitresid.c).
//   - Mean model (FitLogitGEE): logit E[pseudo] = Xβ by generalised
//     estimating equations with gaussian variance, independence working
//     correlation and the scale fixed at 1 — geepack::geese(pseudo ~ X,
//     id, family = gaussian, mean.link = "logit", corstr = "independence",
//     scale.fix = TRUE), the call of Klein, Gerster, Andersen, Tarima &
//     Perme (2008, Comput Methods Programs Biomed 89:289–300) — with the
//     robust sandwich standard errors. No centre term. Subjects are
//     collapsed to covariate patterns (the estimating equations are sums).
//     A model that does not converge is a *ModelError: the run fails,
//     naming the model; never a silent NaN.
//   - Covariates (Code): factors, a missing value its own level (MISSING).
//     A level with fewer than MinLevel (20) transplants or fewer than
//     MinLevelEvents (10) 1-year events is merged into the level POOLED; a POOLED level that is itself
//     sparse is merged into the reference. The reference is the largest
//     level; a covariate left with one level is dropped. A design column
//     that adds fewer than 20 transplants' worth of information to the
//     earlier columns (residual sum of squares on them under 20; 0 for an
//     exactly aliased column) is dropped as aliased. Every choice is listed
//     in the model table (Term.Note).
//   - Expected: the mean prediction expit(x_i·β) over the centre's own
//     transplants.
//
// # Observed and limits
//
// Observed is the centre's own §3 estimate at day 365 (package estimate:
// Kaplan–Meier with Greenwood's standard error, Aalen–Johansen with
// cmprsk's). The funnel-plot limits (Spiegelhalter 2005, Stat Med
// 24:1185–1202; for censored outcomes Putter et al. 2022) are those of a
// proportion expected on nEff transplants, normal on the logit scale:
//
//	limits = expit(logit E ± z/sqrt(nEff·E(1 − E))),  z = 1.96 (95%), 3.09 (99.8%)
//
// with nEff = O(1 − O)/se², the effective sample size of the centre's own
// estimate (exactly n for uncensored data, where Greenwood's variance is
// O(1 − O)/n; smaller with censoring), capped at n, and n where O is 0 or
// 1; a lower (upper) limit is 0 (1) where a centre of that precision
// would see no event (only events) with at least the tail probability,
// (1 − E)^nEff (E^nEff) ≥ 0.025 or 0.001, the exact binomial probability
// of the boundary, since an estimate can reach 0 or 1 where the logit
// scale cannot. Assumptions: the observed estimate is approximately normal on the
// logit scale with the binomial variance at E, censoring costs the
// precision nEff says, the risk model is right, and the registry line E is
// known (its own error is ignored, as in Spiegelhalter's funnel plots). It
// is deterministic: no resampling.
//
// # Completeness and flags
//
// Clark's C (Clark et al. 2002, Lancet 359:1309) over [0, 365]: the days of
// follow-up observed within the first year over the days that could have
// been observed (up to death or day 365), summed over the centre. A
// centre is not_assessed with a reason when it has fewer than MinCentre
// transplants (default 20), C < 0.9 (CIBMTR's 90% rule), no estimate at
// day 365, or the registry has no 1-year event for the endpoint.
// Otherwise: outside the 99.8% limits is better or worse, outside the 95%
// only better95 or worse95 (higher survival, lower NRM is better), else
// as_expected.
package centre
