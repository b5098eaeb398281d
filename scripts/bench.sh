#!/usr/bin/env bash
# Registry-scale benchmark. Usage: scripts/bench.sh [N_TRANSPLANTS] [WORKDIR]
#
# Builds marrow, writes a synthetic extract of N transplants (default
# 1,000,000, ~10 events each; `marrow synth --seed 1`), then measures in
# the same run, one after the other on an otherwise idle machine:
#   bare     DuckDB's read_csv counting both files' rows
#   convert  DuckDB's own CSV -> zstd Parquet conversion of both files
#            (COPY (FROM read_csv(...)) TO ... (FORMAT parquet)): the baseline
#   ingest   marrow ingest (validate + warehouse Parquet)
#   run      marrow run, default config (ingest + cohort + every endpoint and
#            stratum + centre benchmark + report)
#   analyze  marrow -v analyze on the ingested warehouse
#   R        scripts/bench-r.R on the same cohort, if Rscript is installed:
#            the default analysis and the built-in by_year, the estimates
#            marrow's estimation phase makes (timed apart as
#            R_SECONDS_DEFAULT and R_SECONDS_BY_YEAR)
# and prints wall seconds, peak RSS (GNU time) and the ratios the issues
# ask for. Then, unless SKIP_EXTRA=1:
#   nocentres  marrow run with `centres = false` (what the benchmark adds)
#   examples   marrow analyze with each examples/*.toml (what each adds)
#   threads    marrow run with threads = 1 and 4 beside the default run:
#              every output file must be byte-identical (exit 1 if not)
# SKIP_R=1 skips R. MEMORY_LIMIT=4GB sets DuckDB's memory_limit (default
# 2GB) in every config; the script prints the run's peak RSS against that
# limit plus 1 GiB (issue 14's bound at 5,000,000 transplants).
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
  rm -rf "$ex"
  /usr/bin/time -f "synth wall=%e rss_kb=%M" "$W/marrow" synth --transplants "$N" --seed 1 --extract "$ex"
fi
ls -l "$ex"
conf="$W/bench.toml"
base="max_reject_rate = 0.05"
[ "${MEMORY_LIMIT:-}" = "" ] || base="$base
memory_limit = \"$MEMORY_LIMIT\""
printf '%s\n' "$base" >"$conf"

measure() { # name, command...
  local name=$1; shift
  local t0 t1 rss
  t0=$(date +%s.%N)
  /usr/bin/time -f "$name rss_kb=%M" -o "$W/$name.time" "$@" >"$W/$name.log" 2>&1 || {
    echo "$name failed:"; tail -n 5 "$W/$name.log"; return 1; }
  t1=$(date +%s.%N)
  rss=$(grep -o 'rss_kb=[0-9]*' "$W/$name.time" | cut -d= -f2)
  secs=$(awk "BEGIN{print $t1 - $t0}")
  printf '%-10s %8.2f s  peak RSS %5d MiB\n' "$name" "$secs" "$((rss / 1024))"
  eval "T_$name=$secs"
}
ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }

echo "== $N transplants, $(nproc) cores, $(date -u +%FT%TZ)"
measure bare "$W/bareparse" "$ex"
rm -rf "$W/conv-$N"
measure convert "$W/bareparse" -convert "$W/conv-$N" "$ex"
rm -rf "$W/wh-$N" "$W/out-$N" "$W/an-$N"
measure ingest "$W/marrow" -q ingest --extract "$ex" --warehouse "$W/wh-$N" --config "$conf"
measure run "$W/marrow" -v run --extract "$ex" --out "$W/out-$N" --config "$conf"
measure analyze "$W/marrow" -v analyze --warehouse "$W/wh-$N" --out "$W/an-$N" --config "$conf"
# The estimation phase of analyze (risk sets -> curves, landmarks, medians,
# tests, results written): from the estimate stage's start until it and its
# background results writes (the curves files, which go on beside the
# centres stage) have ended, the -v step "results written". cohort.parquet,
# a warehouse file written in the same background, is not a result: the
# step's all_seconds counts it too.
est=$(awk '/msg="results written"/ { for (i = 1; i <= NF; i++) if ($i ~ /^seconds=/) { sub("seconds=", "", $i); s += $i } } END { print s + 0 }' "$W/analyze.log")
est_all=$(awk '/msg="results written"/ { for (i = 1; i <= NF; i++) if ($i ~ /^all_seconds=/) { sub("all_seconds=", "", $i); s += $i } } END { print s + 0 }' "$W/analyze.log")
# The estimate stage itself, and in it the "analyses" step (the built-in
# by_year and any declared ones); the stage until the analyses start is the
# default analysis, what bench-r.R computes, but for its curves file, which
# is still being written then.
stage=$(awk '/msg=estimate / { for (i = 1; i <= NF; i++) if ($i ~ /^seconds=/) { sub("seconds=", "", $i); s += $i } } END { print s + 0 }' "$W/analyze.log")
an=$(awk '/msg=analyses / { for (i = 1; i <= NF; i++) if ($i ~ /^seconds=/) { sub("seconds=", "", $i); s += $i } } END { print s + 0 }' "$W/analyze.log")
est_default=$(awk "BEGIN{print $stage - $an}")
echo "-- ratios (same run)"
echo "ingest  / convert = $(ratio "$T_ingest" "$T_convert")"
echo "run     / convert = $(ratio "$T_run" "$T_convert")   (target <= 3)"
echo "run     / bare    = $(ratio "$T_run" "$T_bare")"
echo "marrow estimation phase (analyze's estimate stage until its last result file is written) = $est s: the stage $stage s ($est_default s until the analyses start, $an s for by_year/declared analyses), the rest its background writes; with cohort.parquet $est_all s"
limit=${MEMORY_LIMIT:-2GB}
limit_mib=$(awk -v l="$limit" 'BEGIN{n=l+0; u=l; sub(/^[0-9.]+ */, "", u); f=(u ~ /^(GB)$/) ? 1000*1000*1000 : (u ~ /^GiB$/) ? 1024*1024*1024 : (u ~ /^MB$/) ? 1000*1000 : 1024*1024; printf "%d", n*f/1048576}')
run_rss=$(grep -o 'rss_kb=[0-9]*' "$W/run.time" | cut -d= -f2)
echo "run peak RSS $((run_rss / 1024)) MiB; memory_limit $limit + 1 GiB = $((limit_mib + 1024)) MiB"

if command -v Rscript >/dev/null && [ "${SKIP_R:-}" = "" ]; then
  # The cohort with each transplant's year: R estimates the default
  # analysis and the built-in by_year, as marrow's estimation phase does.
  cq='SELECT c.*, year(t.transplant_date) AS transplant_year FROM cohort AS c JOIN transplants AS t USING (transplant_id) ORDER BY c.transplant_id'
  "$W/marrow" query --warehouse "$W/an-$N/warehouse" --format csv "$cq" >"$W/cohort-$N.csv"
  measure R Rscript scripts/bench-r.R "$W/cohort-$N.csv"
  grep R_SECONDS "$W/R.log" || true
  r_est=$(sed -n 's/^R_SECONDS_ESTIMATES=//p' "$W/R.log")
  echo "R whole script / marrow analyze        = $(ratio "$T_R" "$T_analyze")   (target >= 15)"
  echo "R estimates / marrow estimation phase  = $(ratio "$r_est" "$est")   (target >= 40)"
fi

[ "${SKIP_EXTRA:-}" = "" ] || exit 0
echo "-- what the centre benchmark and the example analyses add"
printf '%s\ncentres = false\n' "$base" >"$W/nocentres.toml"
if measure nocentres "$W/marrow" -q run --extract "$ex" --out "$W/nocentres-$N" --config "$W/nocentres.toml"; then
  echo "run / run without centres = $(ratio "$T_run" "$T_nocentres")   (target <= 1.20)"
fi
for f in examples/*.toml; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .toml)
  # Top-level keys before the file's [[analysis]] tables, or TOML puts them inside.
  { printf '%s\n' "$base"; cat "$f"; } >"$W/ex-$name.toml"
  rm -rf "$W/ex-$name-$N"
  if measure "ex_$name" "$W/marrow" -q analyze --warehouse "$W/wh-$N" --out "$W/ex-$name-$N" --config "$W/ex-$name.toml"; then
    eval "t=\$T_ex_$name"
    echo "examples/$name.toml: analyze $(awk "BEGIN{printf \"%+.2f\", $t - $T_analyze}") s against the default config"
  fi
done

echo "-- byte identity across thread counts (threads = 1, default, 4)"
status=0
for th in 1 4; do
  printf '%s\nthreads = %d\n' "$base" "$th" >"$W/threads$th.toml"
  rm -rf "$W/out$th-$N"
  measure "threads$th" "$W/marrow" -q run --extract "$ex" --out "$W/out$th-$N" --config "$W/threads$th.toml"
  # manifest.json records the threads setting; every other file must match.
  if diff -r -q -x manifest.json "$W/out-$N" "$W/out$th-$N"; then
    echo "threads = $th: every output file byte-identical to the default run"
  else
    echo "threads = $th: OUTPUTS DIFFER"; status=1
  fi
done
exit $status
