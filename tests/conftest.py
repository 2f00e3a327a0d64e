"""Shared fixtures: tiny, seeded, real Pong runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from gamerl.config.pg import PGConfig


@pytest.fixture
def tiny_pg_config(tmp_path: Path) -> PGConfig:
    """A REINFORCE config that trains for real on 2 Pong games for a few seconds."""
    return PGConfig(
        seed=3,
        runs_dir=tmp_path / "runs",
        run_name="tiny",
        episodes=2,
        num_envs=2,
        num_workers=0,
        batch_episodes=1,
        frame_skip=12,
        checkpoint_every=1,
        learning_rate=1e-3,
        progress=False,
    )
