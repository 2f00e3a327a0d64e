"""Fixtures shared by the integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from gamerl.algorithms.worldmodels.collect import collect
from gamerl.algorithms.worldmodels.encode import encode_store
from gamerl.algorithms.worldmodels.mdn import train_mdn
from gamerl.algorithms.worldmodels.vae import train_vae
from gamerl.config.worldmodels import CollectConfig, MDNConfig, VAEConfig


@pytest.fixture(scope="module")
def wm_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """V and M trained for a few steps on 160 real Airstriker steps (seconds, but every stage is real)."""
    root = tmp_path_factory.mktemp("wm")
    store = root / "store"
    collect(CollectConfig(store, policy="sticky", steps=160, max_episode_steps=80, chunk_steps=80, progress=False))
    run = train_vae(
        VAEConfig(store=store, runs_dir=root / "runs", run_name="air", epochs=1, batch_size=16, progress=False)
    )
    encode_store(run)
    train_mdn(run, MDNConfig(hidden=16, embed=16, sequence_length=20, updates=3, eval_every=3, progress=False))
    return run
