#!/usr/bin/env bash
# browser-check.sh REPORT_HTML [ARTEFACT_DIR | SCREENSHOT_PNG]
#
# Opens marrow's report in Debian's headless Chromium and fails (exit 1) when
#   - the page writes anything to the console (the report has no script of
#     its own, so any console message is an error: a parse or load failure);
#   - a figure (<svg class="curve">) renders empty: no curve, a curve or
#     band path without drawing commands or with a zero-width box, a band
#     missing, or no numbers-at-risk table; or a figure has neither a plot
#     nor a note saying why (all its strata below min_cell, nothing to draw);
#   - the page loads or references anything outside itself (src/href that is
#     not a #fragment or data: URL, CSS url(), any network resource entry);
#   - the page carries its own <script>, or a report section is missing,
#     or the first section is not #summary (SPEC §4);
#   - a plot, or a panel of small multiples, draws more than six curves
#     besides its grey reference (path.line; SPEC §4);
#   - two texts of a numbers-at-risk table overlap on screen.
# The checks run in the browser on a copy of the report with a small
# checker script appended; the result is read back with --dump-dom.
# Then it renders the unmodified report as a 1400x4000 screenshot
# (screenshot.png), as a PDF (report.pdf, A4 as printed), and the PDF's
# first pages as PNG (page-1.png, ...; needs pdftoppm) into ARTEFACT_DIR
# (default: browser-check/ next to the report). Given a .png path instead,
# the screenshot goes there and the rest beside it.
#
# Exit status: 0 ok, 1 check failed, 2 usage or missing browser.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 REPORT_HTML [ARTEFACT_DIR | SCREENSHOT_PNG]" >&2
  exit 2
fi
report=$(realpath "$1")
out=${2:-$(dirname "$report")/browser-check}
case "$out" in
  *.png) shot=$(realpath -m "$out"); out=$(dirname "$shot") ;;
  *) out=$(realpath -m "$out"); shot=$out/screenshot.png ;;
esac
mkdir -p "$out"
if [ ! -f "$report" ]; then
  echo "browser-check: $report: no such file" >&2
  exit 2
fi
browser=/usr/bin/chromium
if [ ! -x "$browser" ]; then
  echo "browser-check: $browser missing (apt-get install -y chromium)" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_browser() {
  # The profile directory is fresh for every run; nothing is fetched.
  timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update \
    --disable-sync --disable-extensions --hide-scrollbars \
    --user-data-dir="$(mktemp -d -p "$work")" "$@"
}

if grep -qi '<script' "$report"; then
  echo "browser-check: $report: the report must not carry a <script>" >&2
  exit 1
fi

# The checker runs after the whole document is parsed; getBBox and
# getBoundingClientRect force layout, so it sees what a reader sees.
cat >"$work/check.js" <<'JS'
(function () {
  var errs = [];
  var need = ["summary", "quality", "methods"];
  need.forEach(function (id) {
    if (!document.getElementById(id)) errs.push("section #" + id + " missing");
  });
  var first = document.querySelector("section");
  if (!first || first.id !== "summary") errs.push("the first section is not #summary");
  // At most six curves a plot or panel besides the grey reference.
  document.querySelectorAll("svg.curve, svg.trend").forEach(function (svg, i) {
    var id = svg.id || "svg#" + i;
    var panels = svg.querySelectorAll("g.panel");
    var groups = panels.length ? panels : [svg];
    Array.prototype.forEach.call(groups, function (g) {
      var n = 0;
      g.querySelectorAll("path.line").forEach(function (p) { if (!p.classList.contains("reference")) n++; });
      if (n > 6) errs.push(id + (panels.length ? " panel " + g.getAttribute("data-stratum") : "") + ": " + n + " curves, at most 6");
    });
  });
  // No two texts of a numbers-at-risk table overlap.
  document.querySelectorAll("svg.curve g.atrisk").forEach(function (g, i) {
    var boxes = [];
    g.querySelectorAll("text").forEach(function (t) {
      var r = t.getBoundingClientRect();
      if (r.width > 0) boxes.push({ r: r, s: t.textContent });
    });
    for (var a = 0; a < boxes.length; a++) {
      for (var b = a + 1; b < boxes.length; b++) {
        var p = boxes[a].r, q = boxes[b].r;
        if (p.left < q.right - 0.5 && q.left < p.right - 0.5 && p.top < q.bottom - 0.5 && q.top < p.bottom - 0.5) {
          errs.push((g.closest("svg").id || "svg") + ": at-risk texts overlap: \"" + boxes[a].s + "\" and \"" + boxes[b].s + "\"");
          a = boxes.length;
          break;
        }
      }
    }
  });
  if (!document.querySelector("section.endpoint")) errs.push("no endpoint section");
  var svgs = document.querySelectorAll("svg.curve");
  // Every figure draws curves or says why not (a stratum below min_cell,
  // nothing to draw): a tiny registry may have no plot at all.
  var figs = document.querySelectorAll("section.endpoint figure, section.analysis figure");
  if (figs.length === 0) errs.push("no figure");
  figs.forEach(function (f) {
    if (!f.querySelector("svg.curve") && !f.querySelector("p.note")) errs.push((f.id || "figure") + ": neither a plot nor a note saying why not");
  });
  var drawn = /^M\s*-?[0-9.]+[ ,]-?[0-9.]+.*[HVLhvl]/;
  svgs.forEach(function (svg, i) {
    var id = svg.id || "svg#" + i;
    var r = svg.getBoundingClientRect();
    if (!(r.width >= 100 && r.height >= 100)) errs.push(id + ": rendered " + r.width + "x" + r.height);
    var lines = svg.querySelectorAll("path.line:not(.reference)");
    var bands = svg.querySelectorAll("path.band");
    if (lines.length === 0) errs.push(id + ": no curve");
    if (bands.length !== lines.length) errs.push(id + ": " + bands.length + " CI bands for " + lines.length + " curves");
    [lines, bands].forEach(function (paths) {
      paths.forEach(function (p) {
        var name = id + " " + p.getAttribute("class") + " " + (p.getAttribute("data-stratum") || "?");
        var d = (p.getAttribute("d") || "").trim();
        if (!drawn.test(d)) { errs.push(name + ": empty path"); return; }
        if (/NaN|Infinity/.test(d)) errs.push(name + ": non-finite coordinate");
        var b = p.getBBox();
        if (!(b.width > 0)) errs.push(name + ": zero width");
      });
    });
    if (svg.querySelectorAll("g.atrisk text").length <= lines.length) errs.push(id + ": no numbers at risk");
  });
  document.querySelectorAll("[src],[href],[srcset],[poster],[data]").forEach(function (el) {
    ["src", "href", "srcset", "poster", "data"].forEach(function (a) {
      var v = el.getAttribute(a);
      if (v !== null && v.charAt(0) !== "#" && v.indexOf("data:") !== 0) errs.push("external reference " + a + "=" + v);
    });
  });
  for (var s = 0; s < document.styleSheets.length; s++) {
    var rules = document.styleSheets[s].cssRules;
    for (var k = 0; k < rules.length; k++) {
      if (/url\(|@import/.test(rules[k].cssText)) errs.push("CSS reference: " + rules[k].cssText.slice(0, 80));
    }
  }
  performance.getEntriesByType("resource").forEach(function (e) { errs.push("loaded " + e.name); });
  if (document.scripts.length !== 1) errs.push("page has " + (document.scripts.length - 1) + " script(s) of its own");
  var out = document.createElement("pre");
  out.id = "browser-check-result";
  out.textContent = errs.length ? "FAIL\n" + errs.join("\n") : "OK " + svgs.length + " plots in " + figs.length + " figures";
  document.body.appendChild(out);
})();
JS

# The instrumented copy lives in a directory of its own, so a relative
# reference in the report resolves to nothing and is caught.
inst="$work/page/index.html"
mkdir -p "$work/page"
awk -v js="$work/check.js" '
  !done && (i = index($0, "</body>")) {
    printf "%s<script>\n", substr($0, 1, i - 1)
    while ((getline line < js) > 0) print line
    printf "</script>%s\n", substr($0, i)
    done = 1
    next
  }
  { print }
  END { if (!done) exit 1 }
' "$report" >"$inst" || {
  echo "browser-check: $report: no </body>" >&2
  exit 1
}

status=0
run_browser --enable-logging=stderr --v=0 --dump-dom "$inst" >"$work/dom.html" 2>"$work/stderr.log" || {
  echo "browser-check: chromium failed (exit $?)" >&2
  tail -n 20 "$work/stderr.log" >&2
  exit 1
}
if grep -q ':CONSOLE' "$work/stderr.log"; then
  echo "browser-check: console messages:" >&2
  grep ':CONSOLE' "$work/stderr.log" | sed 's/^[^]]*] /  /' >&2
  status=1
fi
result=$(awk '/<pre id="browser-check-result">/ { on = 1 } on { print } on && /<\/pre>/ { exit }' "$work/dom.html" |
  sed -e 's#.*<pre id="browser-check-result">##' -e 's#</pre>.*##')
case "$result" in
  OK*) echo "browser-check: $result" ;;
  "") echo "browser-check: the checker did not run (no result in the DOM)" >&2; status=1 ;;
  *) echo "browser-check: $result" >&2; status=1 ;;
esac

run_browser --window-size=1400,4000 --screenshot="$shot" "$report" >/dev/null 2>"$work/shot.log" || {
  echo "browser-check: screenshot failed" >&2
  tail -n 20 "$work/shot.log" >&2
  exit 1
}
if [ ! -s "$shot" ]; then
  echo "browser-check: no screenshot written" >&2
  exit 1
fi
echo "browser-check: screenshot $shot"
pdf=$out/report.pdf
run_browser --no-pdf-header-footer --print-to-pdf="$pdf" "$report" >/dev/null 2>"$work/pdf.log" || {
  echo "browser-check: PDF failed" >&2
  tail -n 20 "$work/pdf.log" >&2
  exit 1
}
if [ ! -s "$pdf" ] || [ "$(head -c 4 "$pdf")" != "%PDF" ]; then
  echo "browser-check: no PDF written" >&2
  exit 1
fi
echo "browser-check: PDF $pdf"
if command -v pdftoppm >/dev/null 2>&1; then
  pdftoppm -png -r 70 -f 1 -l "${PAGES:-4}" "$pdf" "$out/page"
  echo "browser-check: PDF pages as PNG in $out (page-*.png)"
else
  echo "browser-check: pdftoppm missing, no PNG pages of the PDF (apt-get install -y poppler-utils)"
fi
exit $status
