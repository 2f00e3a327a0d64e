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

# --- Derk's Gym: two teams of three trained with multi-agent PPO, 2 arenas, a few minutes ---
if command -v chromium >/dev/null && command -v Xvfb >/dev/null && .venv-derk/bin/python -c "import gym_derk" 2>/dev/null; then
  DERK_RUN=runs/demo-derk
  # one 150-step game per arena and update (~1.7 min here); a rerun adds one more update to the same run
  if [ -f "$DERK_RUN/config.json" ]; then
    gamerl train ppo --resume "$DERK_RUN" --updates 100000 --max-minutes 1
  else
    gamerl train ppo --preset derk-offensive --num-envs 2 --updates 100000 --max-minutes 1 \
      --checkpoint-every 1 --torch-threads 1 --run-name demo-derk
  fi
  gamerl evaluate "$DERK_RUN" --episodes 2 --num-envs 2   # win rate and game score against a random team
  gamerl play "$DERK_RUN" --max-steps 60                  # one arena, frames from the game's page
  ls -1 "$DERK_RUN"/figures/*.png "$DERK_RUN"/videos/* "$DERK_RUN"/eval/*.json
else
  echo "skipping the Derk demo: it needs chromium, Xvfb and .venv-derk (run bash scripts/setup.sh as root)"
fi
