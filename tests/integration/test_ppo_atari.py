"""PPO on Atari Pong through ale_py.AtariVectorEnv: convolutional policy and value nets, a tiny real run."""

import dataclasses
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

from gamerl.algorithms.ppo.agent_env import AtariAgents
from gamerl.algorithms.ppo.evaluate import record_ppo
from gamerl.algorithms.ppo.session import load_model
from gamerl.algorithms.ppo.train import train_ppo
from gamerl.config.ppo import PRESETS


def test_tiny_ppo_run_on_pong_and_its_video(tmp_path: Path) -> None:
    config = dataclasses.replace(
        PRESETS["atari"][1],  # one Nature CNN feeding linear policy and value heads
        num_envs=2,
        num_steps=8,
        updates=2,
        epochs=1,
        minibatches=2,
        runs_dir=tmp_path,
        run_name="pong",
        progress=False,
    )
    run_dir = train_ppo(config)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [16, 32]
    assert 0 < records[-1]["train/entropy/a0"] <= 1.7918  # log 6: Pong's 6 actions
    model, _ = load_model(run_dir)
    assert model.obs_shape == (4, 84, 84) and model.policy[-1].in_features == 512
    with Image.open(record_ppo(run_dir, tmp_path / "pong.gif", max_steps=5, fps=10)) as gif:
        # Pillow merges a repeated frame into the one before it, adding up their durations
        durations = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
        assert gif.size == (252, 252) and sum(durations) == 5 * 100


def test_atari_frames_travel_as_uint8() -> None:
    env = AtariAgents("ALE/Pong-v5", 2, seed=0)
    try:
        first = env.reset()
        step = env.step(np.zeros((2, 1), np.float32))
    finally:
        env.close()
    assert first.dtype == step.obs.dtype == np.uint8 and first.shape == step.obs.shape == (2, 4 * 84 * 84)
    assert first.max() > 0  # real frames
