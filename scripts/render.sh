#!/usr/bin/env bash
# Renders stallsim's pictures in headless Chromium, to look at them and to
# check that they render:
#
#   scripts/render.sh svg TIMELINE.svg OUT.png
#       the timeline picture of `stallsim run --timeline`, as a PNG.
#   scripts/render.sh report REPORT.md OUT.png
#       the Mermaid diagrams of `stallsim run --report`, drawn by Mermaid
#       (fetched once from the npm registry into .render/), as a PNG; exits 1
#       when Mermaid cannot parse one.
#
# Needs Chromium (Debian: apt-get install chromium) and, for reports, npm.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$chromium" ]; then
  echo "render.sh: no Chromium found; install it (apt-get install chromium) or set CHROMIUM" >&2
  exit 2
fi
work=.render
mkdir -p "$work"
# Headless Chromium's flags: no sandbox (containers), no GPU, local files allowed.
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --allow-file-access-from-files
       --virtual-time-budget=10000 --user-data-dir="$PWD/$work/profile")

case "${1:-}" in
svg)
  svg=$2 out=$3
  width=$(grep -o 'width="[0-9.]*"' "$svg" | head -1 | tr -dc '0-9.')
  height=$(grep -o 'height="[0-9.]*"' "$svg" | head -1 | tr -dc '0-9.')
  "$chromium" "${flags[@]}" --window-size="${width%.*},${height%.*}" \
    --screenshot="$(realpath -m "$out")" "file://$(realpath "$svg")" 2>/dev/null
  echo "rendered $svg to $out (${width%.*}x${height%.*})"
  ;;
report)
  report=$2 out=$3
  if [ ! -f "$work/node_modules/mermaid/dist/mermaid.min.js" ]; then
    npm install --silent --prefix "$work" mermaid@11 >/dev/null
  fi
  page="$work/report.html"
  {
    echo '<!doctype html><html><body style="background:#fff;margin:16px">'
    # Each ```mermaid block of the report, as Mermaid reads it in a pull request.
    awk '/^```mermaid$/{on=1; print "<pre class=\"mermaid\">"; next}
         on && /^```$/{on=0; print "</pre>"; next}
         on {gsub(/&/,"\\&amp;"); gsub(/</,"\\&lt;"); gsub(/>/,"\\&gt;"); print}' "$report"
    echo '<script src="node_modules/mermaid/dist/mermaid.min.js"></script>'
    echo '<script>mermaid.initialize({startOnLoad:false, gantt:{useWidth:1200}});'
    echo 'mermaid.run().then(()=>{document.title="rendered"},e=>{document.title="error: "+e.message;'
    echo 'document.body.insertAdjacentHTML("afterbegin","<p id=mermaid-error>"+e.message+"</p>")});</script>'
    echo '</body></html>'
  } > "$page"
  if ! grep -q 'class="mermaid"' "$page"; then
    echo "render.sh: $report has no mermaid block" >&2; exit 1
  fi
  dom=$("$chromium" "${flags[@]}" --dump-dom "file://$PWD/$page" 2>/dev/null)
  # The page's title says how Mermaid's run ended.
  title=$(grep -o '<title>[^<]*</title>' <<<"$dom" | head -1 | sed 's/<[^>]*>//g')
  if [ "$title" != rendered ]; then
    echo "render.sh: Mermaid cannot render $report: ${title:-it never finished}" >&2
    exit 1
  fi
  "$chromium" "${flags[@]}" --window-size=1300,900 --screenshot="$(realpath -m "$out")" "file://$PWD/$page" 2>/dev/null
  echo "rendered the Mermaid diagrams of $report to $out"
  ;;
*)
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
