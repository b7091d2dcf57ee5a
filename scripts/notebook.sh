#!/usr/bin/env bash
# Start Jupyter Notebook on the notebooks/ folder with the tslab kernel on PATH.
# Usage: scripts/notebook.sh [extra jupyter-notebook options, e.g. --ip=0.0.0.0 --port=8888 --no-browser]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
[ -f dist/index.js ] || npm run build --silent
extra=()
[ "$(id -u)" -ne 0 ] || extra+=(--allow-root)   # containers run as root; Jupyter refuses it otherwise
exec /usr/bin/jupyter-notebook --notebook-dir=notebooks "${extra[@]}" "$@"
