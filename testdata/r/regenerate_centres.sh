#!/bin/sh
# regenerate_centres.sh: rebuild testdata/centres/<case>/ — the extract
# (gzipped) and R's answers (want/) — for the centre benchmark (SPEC §6).
# Needs R with survival, cmprsk and geepack (Debian r-cran-*), and a shared
# refdata checkout at ../shared/refdata. Run from the repository root.
set -eu
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -tags duckdb_arrow -o "$tmp/marrow" ./cmd/marrow

# synth: the synthetic registry, 4000 transplants, both types.
"$tmp/marrow" synth --transplants 4000 --seed 12 --extract "$tmp/synth/extract"
# ebmt2c: the EBMT ebmt2 cohort with centres and some covariates added.
Rscript testdata/r/build_ebmt2c.R ../shared/refdata/ebmt2/extract "$tmp/ebmt2c/extract"

for case in synth ebmt2c; do
	w="$tmp/$case"
	"$tmp/marrow" run -q --extract "$w/extract" --out "$w/out" >/dev/null
	cutoff=$(sed -n 's/.*"cutoff": *"\([0-9-]*\)".*/\1/p' "$w/out/manifest.json")
	"$tmp/marrow" query --warehouse "$w/out/warehouse" "
		SELECT c.transplant_id, c.transplant_type, t.center_id, t.transplant_date,
		       c.os_time, c.os_status, c.nrm_time, c.nrm_status, t.age_years, t.indication,
		       t.disease_status, t.donor_type, t.graft_source, t.conditioning, t.karnofsky,
		       t.hct_ci, t.sex
		FROM cohort AS c JOIN transplants AS t ON t.transplant_id = c.transplant_id
		ORDER BY c.transplant_id" > "$w/cohort.csv"
	Rscript testdata/r/centres.R "$w/cohort.csv" "$cutoff" "$w/want"
	d="$root/testdata/centres/$case"
	rm -rf "$d"
	mkdir -p "$d/extract" "$d/want"
	gzip -9n -c "$w/extract/transplants.csv" > "$d/extract/transplants.csv.gz"
	gzip -9n -c "$w/extract/events.csv" > "$d/extract/events.csv.gz"
	cp "$w/want/centres.csv" "$w/want/centre_model.csv" "$d/want/"
	gzip -9n -c "$w/want/design.csv" > "$d/want/design.csv.gz"
	echo "$case: cutoff $cutoff, $(($(wc -l < "$w/want/centres.csv") - 1)) centre rows"
done
