"""``gamerl dream RUN_DIR``: what M imagines, decoded by V.

* ``figures/mdn_prediction.png``: true frames, V's reconstructions and M's open-loop predictions (fed
  only the first frame and the recorded actions), side by side as the seed's ``sample_lstm.png``.
* ``videos/dream.gif``: a dream, M sampling its own next latents at temperature τ.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from gamerl.algorithms.worldmodels.mdn import load_mdn
from gamerl.algorithms.worldmodels.stages import open_matching_store
from gamerl.algorithms.worldmodels.vae import load_vae, reconstruct
from gamerl.config.base import require
from gamerl.errors import ConfigError
from gamerl.evaluation.wm_figures import prediction_strip, save_gif, to_uint8
from gamerl.models.mdn_rnn import MDNRNNCell, sample_next
from gamerl.models.vae import ConvVAE, frames_to_input


@torch.no_grad()
def open_loop(
    vae: ConvVAE, cell: MDNRNNCell, first: np.ndarray, actions: np.ndarray, temperature: float, seed: int
) -> np.ndarray:
    """Decode M's rollout from frame ``first`` ``(R, R, 3)`` under ``actions`` ``(T, A)``
    → ``(T+1, R, R, 3)``.

    z₀ is the first frame's μ; each next z is sampled at ``temperature`` (0 = the likeliest component's mean).
    """
    gen = torch.Generator().manual_seed(seed)
    z, _ = vae.encode(frames_to_input(torch.from_numpy(first[None])))
    state = cell.initial_state(1)
    zs = [z]
    for a in torch.from_numpy(actions.astype(np.float32)):
        out, state = cell(z, a[None], state)
        z = sample_next(out, temperature, gen)
        zs.append(z)
    return to_uint8(vae.decode(torch.cat(zs)).numpy())


@dataclasses.dataclass(frozen=True)
class DreamResult:
    """The files ``dream`` wrote: the prediction strip and the dream GIF."""

    strip: Path
    gif: Path


def dream(
    run_dir: Path,
    steps: int = 8,
    gif_steps: int = 60,
    temperature: float = 1.0,
    seed: int = 0,
    episode: int = 0,
) -> DreamResult:
    """Write the prediction strip (``steps`` predicted frames) and a ``gif_steps``-step dream GIF, starting
    from the first frame of the store's ``episode``; a bad value is a one-line error before any work."""
    require(
        [
            (steps >= 1, f"steps must be >= 1, got {steps}: pass --steps 8"),
            (gif_steps >= 1, f"gif_steps must be >= 1, got {gif_steps}: pass --gif-steps 60"),
            (temperature > 0, f"temperature must be > 0, got {temperature}: pass --temperature 1.0"),
            (seed >= 0, f"seed must be >= 0, got {seed}: pass --seed 0"),
        ]
    )
    run_dir = Path(run_dir)
    store = open_matching_store(run_dir, None)
    episodes = store.episodes()
    if not 0 <= episode < len(episodes):
        raise ConfigError(f"the store has {len(episodes)} episodes, no episode {episode}: pass --episode 0")
    vae, cell = load_vae(run_dir), load_mdn(run_dir, cell=True)
    ep = episodes[episode]
    data = store.read_episode(ep)
    n = min(steps, ep.length - 1)
    true = data["frames"][: n + 1]
    predicted = open_loop(vae, cell, true[0], data["actions"][:n], 0.0, seed)
    strip = prediction_strip(true, reconstruct(vae, true), predicted, run_dir / "figures" / "mdn_prediction.png")
    rng = np.random.default_rng(seed)
    actions = data["actions"][rng.integers(0, ep.length, gif_steps)]
    frames = open_loop(vae, cell, true[0], actions, temperature, seed)
    gif = save_gif(frames, run_dir / "videos" / "dream.gif")
    return DreamResult(strip, gif)
