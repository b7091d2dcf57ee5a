#!/usr/bin/env bash
# Execute notebooks headless with the tslab kernel; fails (exit 1) on the first cell error.
# Usage:
#   scripts/run-notebooks.sh                    # every notebooks/*.ipynb, outputs written in place
#   scripts/run-notebooks.sh --out DIR          # write executed copies to DIR instead
#   scripts/run-notebooks.sh notebooks/01-english-bias.ipynb ...
#   scripts/run-notebooks.sh --no-build ...     # skip 'npm run build' (dist/ is current)
# Environment: XLALIGN_NOTEBOOK_TIMEOUT = seconds per cell (default 1800).
# Needs scripts/setup.sh once (Jupyter, tslab kernel, dist/ build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export PATH="$ROOT/node_modules/.bin:$PATH"
OUT=""
BUILD=1
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) files+=("$1"); shift ;;
  esac
done
[ ${#files[@]} -gt 0 ] || files=(notebooks/*.ipynb)
[ -x /usr/bin/jupyter-nbconvert ] || { echo "run-notebooks: Jupyter is missing; run scripts/setup.sh" >&2; exit 1; }
if [ "$BUILD" = 1 ]; then
  echo "run-notebooks: npm run build"
  npm run build --silent
fi
timeout="${XLALIGN_NOTEBOOK_TIMEOUT:-1800}"
for nb in "${files[@]}"; do
  [ -f "$nb" ] || { echo "run-notebooks: no such notebook: $nb" >&2; exit 1; }
  start=$(date +%s)
  if [ -n "$OUT" ]; then
    mkdir -p "$OUT"
    where=(--output-dir "$OUT")
  else
    where=(--inplace)
  fi
  echo "run-notebooks: executing $nb"
  # nbconvert stops and exits non-zero on the first cell that raises (allow_errors is off).
  /usr/bin/jupyter nbconvert --to notebook --execute "${where[@]}" \
    --ExecutePreprocessor.kernel_name=tslab --ExecutePreprocessor.timeout="$timeout" "$nb" \
    || { echo "run-notebooks: FAILED: $nb" >&2; exit 1; }
  echo "run-notebooks: ok $nb ($(( $(date +%s) - start )) s)"
done
