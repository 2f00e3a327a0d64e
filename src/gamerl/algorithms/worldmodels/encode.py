"""``gamerl encode RUN_DIR``: every finished episode of the store → V's μ and log σ² per frame.

M then trains on ``RUN_DIR/latents.npz`` and never touches pixels (hardmaru's ``series.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gamerl.algorithms.worldmodels.stages import LATENTS, open_matching_store
from gamerl.algorithms.worldmodels.vae import load_vae
from gamerl.data.datasets import Latents
from gamerl.errors import ConfigError
from gamerl.models.vae import frames_to_input


@torch.no_grad()
def encode_store(run_dir: Path, store_path: Path | None = None, batch: int = 256, threads: int = 1) -> Latents:
    """Encode the run's store (or a matching ``store_path``) with the run's V; write and return latents."""
    torch.set_num_threads(threads)
    store = open_matching_store(run_dir, store_path)
    model = load_vae(run_dir)
    episodes = store.episodes()
    if not episodes:
        raise ConfigError(f"store {store.path} has no finished episodes: run 'gamerl collect' first")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("mu", "logvar", "actions", "rewards", "dones")}
    for ep in episodes:
        data = store.read_episode(ep)
        for i in range(0, ep.length, batch):
            mu, logvar = model.encode(frames_to_input(torch.from_numpy(data["frames"][i : i + batch])))
            parts["mu"].append(mu.numpy())
            parts["logvar"].append(logvar.numpy())
        for key in ("actions", "rewards", "dones"):
            parts[key].append(data[key])
    lengths = np.array([ep.length for ep in episodes], np.int64)
    latents = Latents(
        **{k: np.concatenate(v) for k, v in parts.items()},
        starts=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
        lengths=lengths,
        resolution=store.meta.resolution,
        frame_skip=store.meta.frame_skip,
    )
    latents.save(Path(run_dir) / LATENTS)
    return latents
