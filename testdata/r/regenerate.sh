#!/bin/sh
# regenerate.sh -- rerun R for every adversarial case and check reference.R
# against the public refdata.
#
#   testdata/r/regenerate.sh            self-check on refdata, then rewrite every
#                                       testdata/adversarial/<case>/want/
#   testdata/r/regenerate.sh CASE...    only those cases (no self-check)
#
# The committed want/ files were made with
#   R 4.2.2 (Debian r-base-core 4.2.2.20221110-2), survival 3.5.3, cmprsk 2.2.11
# installed by
#   apt-get install -y r-base-core r-cran-survival r-cran-cmprsk r-cran-kmsurv
# which are the versions the refdata (testdata/refdata/*/expected) were made with.
# Other versions may differ in the last bits; review `git diff` before committing.
#
# The self-check runs reference.R on the five public cohorts
# (../shared/refdata/{bmt,bmtcrr,ebmt2,ebmt3,ebmt4}/extract, the copies in
# testdata/refdata when ../shared is absent) with the cutoff from
# expected/info.txt (rule=endpoint: SPEC section 3, a same-day relapse and death
# is a relapse for nrm too; default min_group 10) and requires every output
# file to be byte-identical to expected/ (and compare.py to pass, when it is
# available). It also checks that the copies in testdata/refdata equal the
# shared ones.
# That shows the cohort derivation and the estimators here are the same as the
# ones behind the refdata. CI does not run this script: it has no R.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
compare=${COMPARE_PY:-$root/../../shared/tools/compare.py}
shared=${REFDATA:-$root/../../shared/refdata}

command -v Rscript >/dev/null 2>&1 || { echo "regenerate.sh: Rscript not found" >&2; exit 1; }
versions=$(Rscript -e 'cat(sprintf("R=%s.%s survival=%s cmprsk=%s", R.version$major, R.version$minor, packageVersion("survival"), packageVersion("cmprsk")))' 2>/dev/null)
echo "regenerate.sh: $versions"
if [ "$versions" != "R=4.2.2 survival=3.5.3 cmprsk=2.2.11" ]; then
    echo "regenerate.sh: WARNING: want/ was made with R=4.2.2 survival=3.5.3 cmprsk=2.2.11" >&2
fi

selfcheck() {
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    for set in bmt bmtcrr ebmt2 ebmt3 ebmt4; do
        ref="$shared/$set"
        [ -d "$ref" ] || ref="$root/refdata/$set"
        if [ -d "$root/refdata/$set" ] && ! diff -r "$ref" "$root/refdata/$set" >/dev/null; then
            echo "regenerate.sh: testdata/refdata/$set differs from $ref (copy it again)" >&2
            exit 1
        fi
        [ "$(sed -n 's/^rule=//p' "$ref/expected/info.txt")" = endpoint ] ||
            { echo "regenerate.sh: $set: expected/info.txt names another rule" >&2; exit 1; }
        cutoff=$(sed -n 's/^cutoff=//p' "$ref/expected/info.txt")
        Rscript "$here/reference.R" --extract "$ref/extract" --out "$tmp/$set" --cutoff "$cutoff"
        for f in cohort landmarks medians tests; do
            if ! cmp -s "$ref/expected/$f.csv" "$tmp/$set/$f.csv"; then
                echo "regenerate.sh: self-check FAILED: $set/$f.csv differs from the refdata" >&2
                exit 1
            fi
        done
        if [ -f "$compare" ]; then
            python3 "$compare" "$ref/expected" "$tmp/$set" | tail -n 1
        fi
        echo "self-check $set: cohort, landmarks, medians, tests byte-identical to refdata"
    done
}

if [ $# -eq 0 ]; then
    selfcheck
    set -- $(cd "$root/adversarial" && ls -d */ | tr -d /)
fi
for c in "$@"; do
    Rscript "$here/reference.R" "$root/adversarial/$c"
    echo "$c: $(grep -E '^(cutoff|conf_type|cohort_transplants|landmark_rows|median_rows|test_rows)=' "$root/adversarial/$c/want/info.txt" | tr '\n' ' ')"
done
