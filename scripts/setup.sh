#!/usr/bin/env bash
# Create .venv (once) and install gamerl with what the demo and the tests need. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
pip_quiet() { python -m pip install --quiet --disable-pip-version-check "$@" 2>&1 | grep -v "^WARNING: Location" || true; }
# torch first and pinned: the CPU wheel on disk; anything unpinned pulls gigabytes of CUDA.
python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null || pip_quiet "torch==2.13.0"
pip_quiet -e ".[dev,worldmodels]"
python -c "import gamerl, torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
