#!/usr/bin/env bash
# browser-check-selftest.sh REPORT_HTML
#
# Shows that scripts/browser-check.sh fails where it should: on a copy of a
# good report with seven curves in one plot, and on a copy with two texts of
# a numbers-at-risk table moved onto each other. Exit 0 when both copies
# fail the check with the expected message, 1 otherwise.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 REPORT_HTML" >&2
  exit 2
fi
here=$(dirname "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$1" "$work" <<'PY'
import re, sys
src, work = sys.argv[1], sys.argv[2]
h = open(src, encoding="utf-8").read()
# The first single plot (no panels): its lines group, repeated.
m = re.search(r'<svg class="curve"[^>]*>(?:(?!</svg>).)*?<g class="lines"[^>]*>.*?</g>', h, re.S)
if not m or 'class="panel"' in m.group(0):
    sys.exit("no single plot in " + src)
g = re.search(r'<g class="lines".*?</g>', m.group(0), re.S).group(0)
n = g.count('class="line"')
if n == 0:
    sys.exit("no curve in the first plot")
reps = 7 // n + 1
open(work + "/curves.html", "w", encoding="utf-8").write(h[:m.end()] + g * (reps - 1) + h[m.end():])
# Two at-risk numbers of that plot on one spot.
a = h.index('<g class="atrisk"', m.start())
seg = h[a:h.index("</g>", a)]
xs = re.findall(r'<text x="([0-9.]+)" y="([0-9.]+)" fill="#222">', seg)
(x0, y0), (x1, y1) = xs[0], xs[1]
bad = seg.replace('<text x="%s" y="%s" fill="#222">' % (x1, y1), '<text x="%.1f" y="%s" fill="#222">' % (float(x0) + 3, y0), 1)
open(work + "/overlap.html", "w", encoding="utf-8").write(h[:a] + bad + h[a + len(seg):])
PY
status=0
for c in "curves:curves, at most 6" "overlap:at-risk texts overlap"; do
  name=${c%%:*}
  want=${c#*:}
  if out=$(bash "$here/browser-check.sh" "$work/$name.html" "$work/$name-out" 2>&1); then
    echo "browser-check-selftest: the $name copy passed the check" >&2
    status=1
  elif ! grep -q "$want" <<<"$out"; then
    echo "browser-check-selftest: the $name copy failed without \"$want\":" >&2
    echo "$out" >&2
    status=1
  else
    echo "browser-check-selftest: $name copy fails as it should ($want)"
  fi
done
exit $status
