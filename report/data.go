package report

// Data is everything the report shows. It is plain data filled by the
// pipeline from the warehouse and results/ tables; the report neither reads
// files nor runs queries.
//
// Data deliberately has no field for a patient_id, transplant_id, date of
// birth, event date or event detail text: the report cannot leak what it is
// never given (SPEC §4). Only aggregate counts, codes and estimates enter.
//
// Units and codings, for every type below:
//   - times and days are whole days since transplant;
//   - estimates and confidence limits are probabilities in 0–1 (survival
//     for Kaplan–Meier endpoints, cumulative incidence otherwise);
//   - a float64 that is NaN (or ±Inf) means "empty / not estimable", as an
//     empty field in results/*.csv;
//   - a stratum column holding "*" is pooled over that dimension.
//
// The report shows slices in the order given, except strata, which it sorts
// itself (transplant_type, donor_type, indication, as results/landmarks.csv),
// so the same Data always renders to the same bytes.
type Data struct {
	// Title heads the report, e.g. "marrow registry outcomes".
	Title string
	// Cutoff is the data cutoff date, YYYY-MM-DD.
	Cutoff string
	// MarrowVersion and DuckDBVersion are printed in the header and methods.
	MarrowVersion string
	DuckDBVersion string
	// GeneratedAt is printed when not empty. The caller leaves it "" unless
	// SOURCE_DATE_EPOCH is set, so no wall-clock time reaches the report.
	GeneratedAt string
	// Warnings are one-sentence notes of the run shown at the top of the
	// summary (e.g. a cutoff long after the latest event). They never hold
	// an identifier.
	Warnings []string

	Config    Config
	Ingest    Ingest
	Flow      Flow
	FollowUp  []FollowUp
	Summary   Summary
	Endpoints []Endpoint
	// Analyses are the config's declared analyses (analysis.go).
	Analyses []Analysis
	// Changes is what changed since the output this run replaced
	// (changes.go); nil for a first run.
	Changes *Changes
	// Trend is 1-year OS and NRM per year of transplant and transplant
	// type, for the first page's trend figure, from the built-in by_year
	// analysis; empty, the figure's slot says so.
	Trend []TrendPoint
	// Centres is the centre benchmark (SPEC §6); nil when not run.
	Centres *Centres
}

// Flow is how the accepted transplants become the analysed cohort; rows
// read, rejected and accepted come from Ingest.Files (transplants.csv).
type Flow struct {
	// Known is false when the pipeline could not count the flow (then the
	// first page shows rows read, rejected and accepted only).
	Known bool
	// Accepted transplants in the warehouse; Later are left out as a later
	// transplant of the same type of the same patient (cohort "first");
	// AfterCutoff are dated after the cutoff; Analysed are in the cohort.
	// Accepted = Later + AfterCutoff + Analysed.
	Accepted, Later, AfterCutoff, Analysed int
}

// TrendPoint is one endpoint's estimate at Day for the transplants of one
// year and transplant type ("*" = all types).
type TrendPoint struct {
	Endpoint       string // os | nrm
	TransplantType string
	Year           int
	Day            int // 365
	N              int
	Estimate       float64
	Lower, Upper   float64
}

// Config is the part of the analysis configuration the methods section
// describes.
type Config struct {
	// Landmarks are the landmark days, ascending.
	Landmarks []int
	// ConfType is the Kaplan–Meier CI scale: "log-log", "log" or "plain".
	ConfType string
	// MinCell is the small-cell threshold: strata with fewer transplants are
	// not plotted and their estimates are not shown; summary counts in
	// 1..MinCell-1 print as "<MinCell". 0 disables suppression.
	MinCell int
	// MinGroup: tests leave out groups with fewer transplants (0 = none).
	MinGroup int
	// Cohort is the cohort rule: "first" (each patient's first transplant of
	// each type) or "all".
	Cohort string
	// MaxRejectRate is the largest accepted share of rejected rows per file
	// (0.01 = 1%).
	MaxRejectRate float64
}

// Ingest summarises the extract's ingest. Its counts are rows and flags,
// not patients, and are shown unsuppressed so that read = accepted +
// rejected can be checked.
type Ingest struct {
	Files   []FileCount
	Rejects []RejectCount
	Quality []FlagCount
}

// FileCount is one input file's row counts (rows after the header).
type FileCount struct {
	File           string // transplants.csv, events.csv
	RowsRead       int
	RowsAccepted   int
	RowsRejected   int
	UnknownColumns []string // header names ignored, as in the header
}

// RejectCount counts rejected rows of one file by column and reason.
// Reason is the fixed reason text, never the offending value.
type RejectCount struct {
	File   string
	Column string // "" when the row as a whole is bad
	Reason string
	Count  int
}

// FlagCount counts quality flags of one kind (e.g. two_deaths).
type FlagCount struct {
	Flag  string
	Count int
	// Centres are the flag's records per centre (every centre with one,
	// most first, then by id); empty when the extract has no center_id.
	Centres []CentreCount
}

// CentreCount is a count of one centre.
type CentreCount struct {
	Centre string
	Count  int
}

// FollowUp describes the follow-up of one group of the cohort.
type FollowUp struct {
	// TransplantType is "ALLO", "AUTO" or "*" for all transplants.
	TransplantType string
	// N is the number of transplants in the group.
	N int
	// Median is the median follow-up in days by the reverse Kaplan–Meier
	// method (death censors, end of follow-up is the event), with its 95%
	// limits Lower and Upper (NaN when not given).
	Median, Lower, Upper float64
	// Q1 and Q3 are the reverse Kaplan–Meier quartiles in days (NaN when
	// not reached).
	Q1, Q3 float64
	// Eligible counts transplants dated at least 365 days before the
	// cutoff; Complete counts those of them followed for at least 365 days
	// (or dead before). Complete/Eligible is the follow-up completeness.
	Eligible, Complete int
}

// Summary describes the cohort in columns: typically "All", then each
// transplant type. Counts per column line up with Columns.
type Summary struct {
	// Columns are the column headings, e.g. {"All", "ALLO", "AUTO"}.
	Columns []string
	// N is the number of transplants per column.
	N []int
	// Age is the recipient age (years) per column.
	Age []AgeSummary
	// Variables are categorical characteristics, shown in the order given,
	// e.g. Indication, Donor type, Sex, Conditioning, Graft source,
	// Disease status.
	Variables []Variable
}

// AgeSummary is the age distribution of one column, in years. Known is the
// number of transplants with an age; the other fields are NaN when
// Known == 0.
type AgeSummary struct {
	Known            int
	Median, Min, Max float64
	Q1, Q3           float64 // quartiles (R's quantile type 7)
}

// Variable is one categorical characteristic.
type Variable struct {
	Name   string  // e.g. "Conditioning"
	Levels []Level // in display order; a "missing" level is allowed
}

// Level is one category of a Variable with its count per Summary column.
type Level struct {
	Label  string // code or description, e.g. "MAC"
	Counts []int  // per Summary.Columns
}

// Endpoint is one endpoint of SPEC §3 with its results.
type Endpoint struct {
	// Name is the endpoint code (os, lfs, relapse, nrm, ...).
	Name string
	// Label is its human name, e.g. "Overall survival".
	Label string
	// Estimator is "Kaplan–Meier" or "cumulative incidence".
	Estimator string
	// Definition says what the event, competing event and population are.
	Definition string
	// Horizon is the x-axis end of its figures in days; 0 chooses the
	// largest landmark day, shortened to the longest plotted curve.
	Horizon int

	Curves    []Curve
	Landmarks []Landmark
	Medians   []Median // Kaplan–Meier endpoints only
	Tests     []Test
}

// KaplanMeier reports whether the endpoint is a survival endpoint (curves
// fall from 1) rather than a cumulative incidence (curves rise from 0).
func (e *Endpoint) KaplanMeier() bool { return e.Estimator == EstimatorKM }

// Estimator names used in Endpoint.Estimator.
const (
	EstimatorKM = "Kaplan–Meier"
	EstimatorCI = "cumulative incidence"
)

// Stratum names a stratum; "*" is pooled.
type Stratum struct {
	TransplantType string // ALLO, AUTO or *
	DonorType      string // MSD, MUD, ..., UNKNOWN or *
	Indication     string // AML, ALL, ... or *
}

// Curve is one stratum's estimate as a step function.
type Curve struct {
	Stratum
	// N is the number of transplants in the stratum.
	N int
	// Points has one entry per distinct time (event, competing event or
	// censoring), ascending, as results/curves: the estimate holds from
	// Time until the next point's Time; the curve ends at the last point.
	Points []Point
}

// Point is one step of a Curve.
type Point struct {
	Time   int // days
	NRisk  int // endpoint time >= Time (survfit's n.risk)
	NEvent int // events of interest at Time
	// Estimate, Lower and Upper after the step at Time; Lower/Upper NaN
	// when empty.
	Estimate, Lower, Upper float64
}

// Landmark is one row of results/landmarks (SPEC §4).
type Landmark struct {
	Stratum
	Day               int
	N, NRisk, NEvents int
	Estimate, StdErr  float64
	Lower, Upper      float64
}

// Median is one row of results/medians: median time to event in days with
// its 95% limits; Median NaN = not reached, Lower/Upper NaN = not reached or
// not estimable.
type Median struct {
	Stratum
	N                    int
	Median, Lower, Upper float64
}

// Test is one row of results/tests.
type Test struct {
	Comparison string  // indication | transplant_type
	Within     string  // ALLO | AUTO | <indication>
	Statistic  float64 // NaN: not computable (R's statistic is negative)
	DF         int
	PValue     float64  // NaN with Statistic
	Method     string   // logrank | gray
	Excluded   []string // groups left out for having fewer than min_group transplants
}
