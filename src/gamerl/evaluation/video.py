"""Record the agent playing the real game to GIF or mp4."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from gamerl.algorithms.pg.episodes import split_nonzeros
from gamerl.algorithms.pg.reinforce import sample_actions
from gamerl.algorithms.pg.session import load_policy, make_env
from gamerl.evaluation.videofile import video_path, write_video


def record_play(
    run_dir: Path, out: Path | None = None, max_steps: int = 2000, seed: int = 0, fps: int = 30, greedy: bool = False
) -> Path:
    """Play one game (up to ``max_steps`` agent steps) and write its RGB frames to ``out`` (.gif or .mp4).

    Default ``out``: ``RUN_DIR/videos/play.gif``.
    """
    out = video_path(run_dir, out, max_steps, fps, seed)
    policy, config = load_policy(run_dir)
    weights = policy.acting_weights()
    config = dataclasses.replace(config, seed=seed)
    rng = np.random.default_rng(seed)
    frames = []
    with make_env(config, num_envs=1, num_workers=0) as env:
        obs = env.reset()
        for _ in range(max_steps):
            frames.append(env.render_rgb(0))
            obs, _, dones = env.step(sample_actions(weights, split_nonzeros(obs), rng, greedy))
            if dones[0]:
                break
    return write_video(frames, out, fps)
