"""Shared fixtures: tiny, seeded, real Pong runs; a machine without Sonic ROMs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gamerl.config.pg import PGConfig


def pytest_configure(config: pytest.Config) -> None:
    """One torch thread: the tests' tiny models gain nothing from more, results do not depend on the core
    count, and a busy machine does not slow them several-fold (a dream test under load 4: 10.7 s at the
    default 2 threads, 0.9 s at 1)."""
    torch.set_num_threads(1)


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


@pytest.fixture
def no_sonic_rom(monkeypatch: pytest.MonkeyPatch) -> None:
    """stable-retro as on a machine where no Sonic ROM was imported, whatever this machine has: the
    missing-ROM error path then runs everywhere instead of being skipped where a ROM exists."""
    stable_retro = pytest.importorskip("stable_retro")
    from gamerl.envs.retro import SONIC_GAMES

    real = stable_retro.data.get_romfile_path

    def get_romfile_path(game: str, *args: object, **kwargs: object) -> str:
        if game in SONIC_GAMES:
            raise FileNotFoundError(f"no ROM for {game}")
        return real(game, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(stable_retro.data, "get_romfile_path", get_romfile_path)
