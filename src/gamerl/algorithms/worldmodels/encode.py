"""``gamerl encode RUN_DIR``: every finished episode of the store → V's μ and log σ² per frame.

M then trains on ``RUN_DIR/latents.npz`` and never touches pixels (hardmaru's ``series.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gamerl.algorithms.worldmodels.stages import LATENTS, open_matching_store
from gamerl.algorithms.worldmodels.vae import load_vae, model_input
from gamerl.data.datasets import Latents
from gamerl.errors import ConfigError
from gamerl.training.device import resolve_device


@torch.no_grad()
def encode_store(
    run_dir: Path, store_path: Path | None = None, batch: int = 256, threads: int = 1, device: str = "auto"
) -> Latents:
    """Encode the run's store (or a matching ``store_path``) with the run's V on ``device`` (see
    :func:`~gamerl.training.device.resolve_device`); write and return latents."""
    if batch < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch}: pass --batch-size 256")
    torch.set_num_threads(threads)
    model = load_vae(run_dir).to(resolve_device(device))
    store = open_matching_store(run_dir, store_path)
    episodes = store.episodes()
    if not episodes:
        raise ConfigError(f"store {store.path} has no finished episodes: run 'gamerl collect' first")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("mu", "logvar", "actions", "rewards", "dones")}
    for ep in episodes:
        data = store.read_episode(ep)
        for i in range(0, ep.length, batch):
            mu, logvar = model.encode(model_input(model, data["frames"][i : i + batch]))
            parts["mu"].append(mu.cpu().numpy())
            parts["logvar"].append(logvar.cpu().numpy())
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
