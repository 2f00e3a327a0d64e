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
pip_quiet -e ".[dev,worldmodels,ppo,ray]"

# --- Derk's Gym: Chromium, Xvfb, Mesa's EGL (llvmpipe) from Debian (as root); gym-derk in .venv-derk (numpy<2) ---
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! dpkg -s chromium xvfb xauth fonts-liberation libegl1 libegl-mesa0 libgl1-mesa-dri >/dev/null 2>&1; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium xvfb xauth fonts-liberation libegl1 libegl-mesa0 libgl1-mesa-dri >/dev/null
fi
if ! .venv-derk/bin/python -c "import gym_derk" 2>/dev/null; then
  "$PYTHON" -m venv .venv-derk
  .venv-derk/bin/python -m pip install --quiet --disable-pip-version-check "gym-derk==1.1.1" "numpy<2" 2>&1 \
    | grep -v "^WARNING: Location" || true
fi

python -c "import gamerl, torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
