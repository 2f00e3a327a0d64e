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
  # one 150-step game per arena and update (4 in the minute here); a rerun adds a minute of updates to the same run
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

# --- World Models on Doom take_cover: collect → V → M → C trained in M's dream → real-game score and GIF ---
# a few minutes; a rerun re-scores the trained controller (an interrupted first run starts over)
WM=runs/demo-doom
STORE=runs/demo-doom-store
if [ ! -f "$WM/controller/dream/best.npz" ]; then
  rm -rf "$WM" "$STORE"
  gamerl collect --store "$STORE" --env-id VizdoomTakeCover-v1 --policy random --steps 4000 --workers 2
  gamerl train vae --store "$STORE" --run-name demo-doom --epochs 3 --batch-size 64 --torch-threads 2
  gamerl encode "$WM"
  gamerl train mdn "$WM" --updates 300 --sequence-length 64
  gamerl train controller "$WM" --mode dream --generations 8 --population 16 --rollouts 4 --eval-every 4 \
    --eval-episodes 4
fi
gamerl evaluate "$WM" --episodes 10      # tics survived in the real game (random play: about 295)
gamerl play "$WM" --max-steps 525        # one real episode as a GIF
gamerl dream "$WM"                       # what M predicts and dreams
ls -1 "$WM"/figures/*.png "$WM"/videos/* "$WM"/controller/dream/videos/* "$WM"/controller/dream/eval/*.json
