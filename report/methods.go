package report

import (
	"strconv"
)

func init() { addSection(orderMethods, "methods", methodsSection) }

type methodItem struct{ Term, Text string }

func methodsSection(r *renderer) []Section {
	return []Section{{ID: "methods", Title: "Methods", Body: r.exec("methods", r.methods())}}
}

// methods is the methods section, generated from the configuration.
func (r *renderer) methods() []methodItem {
	d := r.d
	c := d.Config
	var m []methodItem
	add := func(term, text string) { m = append(m, methodItem{term, text}) }

	add("Data cutoff", d.Cutoff+". Events after the cutoff are ignored, follow-up is censored at it, and transplants dated after it are left out.")
	switch c.Cohort {
	case "first":
		add("Cohort", "Each patient's first transplant of each type (ALLO, AUTO): the earliest transplant date, then the smallest transplant identifier.")
	case "all":
		add("Cohort", "All transplants in the extract dated on or before the cutoff.")
	default:
		add("Cohort", "Cohort rule \""+c.Cohort+"\".")
	}
	add("Time and follow-up", "Time origin is the transplant date; times are whole days. A transplant's follow-up ends at the latest of its event dates (any event, last contact included), capped at the cutoff; a transplant without events has 0 days of follow-up. Subjects without the event (or competing event) are censored at the end of follow-up. Only the first occurrence of an event counts. A relapse and a death on the same day are a relapse (the event of relapse, the competing event of NRM), so relapse and NRM add up to 1 − LFS; any other event on the day of a death counts as the event. A second transplant does not censor the first.")
	for i := range d.Endpoints {
		e := &d.Endpoints[i]
		add(e.Label+" ("+e.Name+")", estimatorName(e.Estimator)+". "+e.Definition)
	}
	add("Kaplan–Meier", "Survival estimated as R survival::survfit, with the Greenwood standard error of the estimate and 95% confidence intervals on the "+confScale(c.ConfType)+". Medians and their confidence limits as survfit's quantile() under the same scale; \"not reached\" when the curve does not fall to 50%.")
	add("Cumulative incidence", "Aalen–Johansen estimate with the variance of R cmprsk::cuminc, competing events as defined per endpoint; 95% confidence intervals on the log(−log) scale, est^exp(±z·sd/(est·log est)); where the estimate is 1 both limits are 1.")
	add("Confidence intervals", "All intervals are 95% with z = Φ⁻¹(0.975) = 1.959963984540054.")
	add("Landmarks", "Estimates at days "+joinInts(c.Landmarks)+" (columns 100 d, 6 mo, 1 y, …): the step function's value at that day. Past a stratum's last follow-up time the estimate is not estimable and is not carried forward. The number at risk counts transplants whose endpoint time is on or after the day.")
	add("Tests", "Log-rank test (survival::survdiff, rho = 0) for Kaplan–Meier endpoints and Gray's test (cmprsk::cuminc, rho = 0) for cumulative incidence: across indications within each transplant type, and ALLO against AUTO within each indication. "+minGroupText(c.MinGroup)+" A test runs where at least two groups remain and an event occurred among them. p is the upper chi-square tail. A statistic R cannot compute (cuminc's −1 for a singular variance, or any negative value) is shown as \"not computable\", never as a chi-square below 0.")
	add("Strata", "Each endpoint is estimated overall, by transplant type, by indication, by transplant type and indication, and for ALLO by donor type and by donor type and indication. ALLO-only endpoints (GVHD, GRFS) are estimated for allogeneic transplants only.")
	add("Figures", "At most six curves share a plot; with more groups, one small panel per group on shared axes with the pooled curve in grey behind it. Colours: Okabe & Ito's colour-blind-safe palette. Survival axes run 0–100%; incidence axes to 10 points above the largest upper confidence limit plotted, rounded up to a multiple of 10. Time in days for GVHD and engraftment, in years beyond one year.")
	add("Median follow-up", "Reverse Kaplan–Meier: follow-up time with the censoring indicator reversed (death censors follow-up); quartiles as the first time the reverse curve falls to 75% and 25%. Completeness: the share of transplants dated at least one year before the cutoff that have at least one year of follow-up (or died before).")
	add("Data-quality verdict", "A concern is raised for a file whose rejected rows exceed half the run's limit ("+fixed(100*c.MaxRejectRate, 2)+"%, max_reject_rate; above the limit the run fails), for one-year follow-up completeness below "+fixed(100*completenessThreshold, 0)+"%, and for a quality flag whose records exceed "+fixed(100*flagThreshold, 0)+"% of the accepted transplants.")
	if r.minCell() > 0 {
		mc := strconv.Itoa(r.minCell())
		add("Small-cell suppression", "The report prints no count from 1 to "+strconv.Itoa(r.minCell()-1)+" (min_cell = "+mc+"): such a count reads \"<"+mc+"\", and a stratum with fewer than "+mc+" transplants is neither plotted nor tabulated (its estimates, medians and numbers at risk are withheld). Every count of every table — cohort, strata, numbers at risk, follow-up, rows read and rejected, quality flags and their centres — goes through this one rule. Complementary suppression then works on all tables together: the report publishes sums (types add up to all transplants, indications to their type, donor types to ALLO, levels of a characteristic to the column, at-risk numbers of strata to the pooled stratum, rows read to accepted plus rejected, the cohort flow to the accepted transplants, a flag's centres to the flag). Wherever a hidden count could be recovered exactly from the printed ones — by subtraction, by combining sums, or by the bounds the labels give (\"<"+mc+"\" is 1 to "+strconv.Itoa(r.minCell()-1)+") — one more count is hidden, preferring counts pooled over transplant types, then the smallest, until none can. Counts hidden this way read \"≥"+mc+"\" and their strata \""+complementaryLabel+"\". The unsuppressed numbers are in results/ for analysts.")
	} else {
		add("Small-cell suppression", "Disabled (min_cell = 0).")
	}
	add("Ingest", "Rows with a missing required value, an unparseable date or number, an unknown code, a duplicate transplant, an event for an unknown transplant or an event before its transplant are rejected and counted; the run fails when more than "+fixed(100*c.MaxRejectRate, 2)+"% of a file's rows are rejected. Implausible but parseable records are kept and flagged.")
	add("Privacy", "The report contains no patient or transplant identifiers, dates of birth or free-text event details.")
	add("Software", "marrow "+orDash(d.MarrowVersion)+", DuckDB "+orDash(d.DuckDBVersion)+".")
	return m
}

func confScale(t string) string {
	switch t {
	case "log":
		return "log scale (conf.type = \"log\")"
	case "plain":
		return "plain, linear scale (conf.type = \"plain\")"
	default:
		return "log(−log) scale (conf.type = \"log-log\")"
	}
}

// minGroupText says which groups the tests leave out.
func minGroupText(minGroup int) string {
	if minGroup <= 0 {
		return "Every group is compared (min_group = 0)."
	}
	return "A group with fewer than " + strconv.Itoa(minGroup) + " transplants in the endpoint's population (min_group) is left out, named on the figure and in the table, and in results/tests.csv's excluded column."
}
