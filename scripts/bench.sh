#!/usr/bin/env bash
# Registry-scale benchmark. Usage: scripts/bench.sh [N_TRANSPLANTS] [WORKDIR]
#
# Builds marrow, writes a synthetic extract of N transplants (default
# 1,000,000, ~10 events each), then measures in the same run:
#   bare    DuckDB's read_csv counting both files' rows (the baseline)
#   ingest  marrow ingest (validate + warehouse Parquet)
#   run     marrow run (ingest + cohort + every endpoint/stratum + report)
#   R       scripts/bench-r.R on the same cohort, if Rscript is installed
# Wall seconds and peak RSS (GNU time) for each, and ratios to the baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
W=${2:-/tmp/marrow-bench}
mkdir -p "$W"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
go build -tags duckdb_arrow -o "$W/marrow" ./cmd/marrow
go build -tags duckdb_arrow -o "$W/bareparse" ./scripts/bareparse

ex="$W/extract-$N"
if [ ! -f "$ex/events.csv" ]; then
  /usr/bin/time -f "synth wall=%e rss_kb=%M" "$W/marrow" synth --transplants "$N" --seed 1 --extract "$ex"
fi
ls -l "$ex"

measure() { # name, command...
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "$name rss_kb=%M" -o "$W/$name.time" "$@" >"$W/$name.log" 2>&1
    rss=$(grep -o 'rss_kb=[0-9]*' "$W/$name.time" | cut -d= -f2)
  else
    "$@" >"$W/$name.log" 2>&1; rss=NA
  fi
  t1=$(date +%s.%N)
  secs=$(awk "BEGIN{print $t1 - $t0}")
  printf '%-8s %8.2f s  peak RSS %s MiB\n' "$name" "$secs" "$([ "$rss" = NA ] && echo NA || echo $((rss / 1024)))"
  eval "T_$name=$secs"
}

echo "== $N transplants, $(nproc) cores"
measure bare "$W/bareparse" "$ex"
measure ingest "$W/marrow" -q ingest --extract "$ex" --warehouse "$W/wh-$N"
measure run "$W/marrow" -q run --extract "$ex" --out "$W/out-$N" --config <(printf 'max_reject_rate = 0.05\n')
printf 'ingest / bare = %.2f\n' "$(awk "BEGIN{print $T_ingest / $T_bare}")"
printf 'run    / bare = %.2f\n' "$(awk "BEGIN{print $T_run / $T_bare}")"

if command -v Rscript >/dev/null && [ -f scripts/bench-r.R ] && [ "${SKIP_R:-}" = "" ]; then
  "$W/marrow" query --warehouse "$W/out-$N/warehouse" 'SELECT * FROM cohort ORDER BY transplant_id' >"$W/cohort-$N.csv"
  measure R Rscript scripts/bench-r.R "$W/cohort-$N.csv"
  grep R_SECONDS "$W/R.log" || true
  # -v logs each step's seconds; the estimation part is what R's estimate
  # phase does: risk sets, curves (with landmarks and medians), tests.
  measure analyze "$W/marrow" -v analyze --warehouse "$W/wh-$N" --out "$W/an-$N"
  printf 'R / marrow analyze = %.1f\n' "$(awk "BEGIN{print $T_R / $T_analyze}")"
  est=$(awk '/msg="risk sets"|msg=curves |msg=tests / { for (i = 1; i <= NF; i++) if ($i ~ /^seconds=/) { sub("seconds=", "", $i); s += $i } } END { print s }' "$W/analyze.log")
  r_est=$(sed -n 's/^R_SECONDS_ESTIMATES=//p' "$W/R.log")
  printf 'marrow estimation (risk sets + curves + tests) = %.2f s; R estimates / marrow estimation = %.1f\n' "$est" "$(awk "BEGIN{print $r_est / $est}")"
fi
