#!/usr/bin/env bash
# Set up (if needed), train a Pong agent for a few minutes, evaluate it, and record a GIF and curves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
MINUTES=${DEMO_MINUTES:-4}
RUN=runs/demo-pong
if [ -f "$RUN/config.json" ]; then
  gamerl train pg --resume "$RUN" --episodes 100000 --max-minutes "$MINUTES"
else
  gamerl train pg --preset fast --episodes 100000 --max-minutes "$MINUTES" --run-name demo-pong
fi
gamerl evaluate "$RUN" --episodes 4
gamerl play "$RUN" --max-steps 600
echo "demo artifacts:"
ls -1 "$RUN"/figures/*.png "$RUN"/videos/* "$RUN"/eval/*.json "$RUN"/metrics.jsonl
