#!/usr/bin/env bash
# Set up the notebook environment of xlalign (idempotent: each step runs only when needed).
#   1. Debian packages: Jupyter (notebook, nbconvert, ipykernel), Chromium (figure export) and
#      PyTorch with NumPy (the independent reference of the transformer encoder's forward and
#      gradients in test/models/transformer, and the PyTorch side of `npm run bench`),
#      installed only when missing; gcc and make build the vendored trec_eval the tests
#      compare the metrics with (test/tools/trec_eval). Jupyter comes from Debian's /usr/bin/python3; a pyenv or
#      venv `python3` earlier on PATH is not used.
#   2. npm ci when node_modules is missing.
#   3. npm run build: notebooks load the compiled library from dist/ (tslab compiles cells
#      with its own TypeScript to CommonJS and require()s dist/index.js).
#   4. The tslab kernel spec ("TypeScript"), pointing at this checkout's tslab binary.
#   5. Checks: zeromq's native module loads (npm here skips install scripts; zeromq ships
#      prebuilds), the kernel is registered, Chromium starts.
# Usage: scripts/setup.sh            (as root, or with sudo available for apt-get)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY=/usr/bin/python3

if [ -t 1 ]; then say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }; else say() { printf 'setup: %s\n' "$*"; }; fi

# 1. Debian packages ---------------------------------------------------------------------
need=()
[ -x /usr/bin/jupyter-notebook ] || need+=(jupyter-notebook)
[ -x /usr/bin/jupyter-nbconvert ] || need+=(jupyter-nbconvert)
"$PY" -c 'import ipykernel' 2>/dev/null || need+=(python3-ipykernel)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v gcc >/dev/null && [ -e /usr/include/stdio.h ] || need+=(gcc libc6-dev)
command -v make >/dev/null || need+=(make)
"$PY" -c 'import torch, numpy' 2>/dev/null || need+=(python3-torch python3-numpy)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "apt-get install ${need[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}"
else
  say "Debian packages present (jupyter-notebook, jupyter-nbconvert, python3-ipykernel, chromium, python3-torch, python3-numpy)"
fi

# 2. npm dependencies --------------------------------------------------------------------
if [ ! -d node_modules ]; then
  say "npm ci"
  # package.json's allowScripts denies every dependency's install script (npm with allowScripts
  # support); for an older npm, tell onnxruntime-node's postinstall not to download its CUDA
  # binaries (it reads this variable; as an .npmrc key it made npm warn on every call)
  ONNXRUNTIME_NODE_INSTALL=skip npm ci
else
  say "node_modules present"
fi

# 3. Build dist/ -------------------------------------------------------------------------
say "npm run build (dist/ for the notebooks)"
npm run build --silent

# 4. tslab kernel ------------------------------------------------------------------------
say "tslab kernel spec -> $ROOT/node_modules/.bin/tslab"
"$ROOT/node_modules/.bin/tslab" install --python="$PY" --binary="$ROOT/node_modules/.bin/tslab" >/dev/null

# 5. Checks ------------------------------------------------------------------------------
node -e "require('zeromq')" || { echo "setup: zeromq's native module does not load (tslab needs it); try 'npm rebuild zeromq'" >&2; exit 1; }
"$PY" -c "
from jupyter_client.kernelspec import KernelSpecManager
specs = KernelSpecManager().find_kernel_specs()
assert 'tslab' in specs, 'tslab kernel not registered: %s' % specs
print('setup: kernels:', ', '.join(sorted(specs)))"
node -e "
const { chromium } = require('playwright-core');
chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] })
  .then((b) => { console.log('setup: chromium', b.version()); return b.close(); })
  .catch((e) => { console.error('setup: chromium does not start:', e.message); process.exit(1); });"
say "done. Open the notebooks with: scripts/notebook.sh   (or run them all: scripts/run-notebooks.sh)"
