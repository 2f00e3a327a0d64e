"""Training inside the dream: M steps in latent space, its reward and done heads end and score the episode.

:class:`BatchedDream` steps ``N`` dreams as one tensor batch (the whole population × rollouts of a CMA-ES
generation), so a generation costs a few forward passes per time step. :class:`DreamEnv` is one dream as a
Gymnasium env, for users and for the per-rollout loop the benchmark compares against.

Randomness is drawn per dream from its own generator (seeded by the rollout's seed) in blocks, never from a
shared stream: dream ``i`` of a batch equals the same dream run alone, whatever else is in the batch.
"""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch

from gamerl.models.controller import ControllerSpec
from gamerl.models.mdn_rnn import MDNRNNCell, State, sample_with_noise

Inputs = Literal["zh", "zhc"]
NOISE_BLOCK = 64
"""time steps of noise drawn at once per dream"""


def controller_features(z: torch.Tensor, state: State, inputs: Inputs) -> torch.Tensor:
    """C's input ``(N, Z + H [+ H])``: z ``(N, Z)`` with M's top-layer h (and c) from ``state``."""
    h, c = state
    parts = [z, h[-1]] + ([c[-1]] if inputs == "zhc" else [])
    return torch.cat(parts, dim=-1)


def feature_dim(z_dim: int, hidden: int, inputs: Inputs) -> int:
    """Length of :func:`controller_features` rows."""
    return z_dim + hidden * (2 if inputs == "zhc" else 1)


class _DreamNoise:
    """Per-dream random numbers in blocks of :data:`NOISE_BLOCK` steps: (uniform, normal) for z, uniform for done.

    Only dreams still running draw: :meth:`keep` drops the generators (and block rows) of ended dreams.
    """

    def __init__(self, seeds: list[int], z_dim: int) -> None:
        self.generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.z_dim, self.t = z_dim, 0
        self.block: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    def start(self, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Each dream's start: an index in ``[0, count)`` ``(N,)`` and a normal draw ``(N, Z)``."""
        idx = torch.stack([torch.randint(count, (1,), generator=g)[0] for g in self.generators])
        eps = torch.stack([torch.randn(self.z_dim, generator=g) for g in self.generators])
        return idx, eps

    def next(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """This step's (uniform ``(n, Z)``, normal ``(n, Z)``, done-uniform ``(n,)``) for the ``n`` running dreams."""
        i = self.t % NOISE_BLOCK
        if i == 0:
            shape = (NOISE_BLOCK, self.z_dim)
            u = torch.stack([torch.rand(shape, generator=g) for g in self.generators], dim=1)
            n = torch.stack([torch.randn(shape, generator=g) for g in self.generators], dim=1)
            d = torch.stack([torch.rand(NOISE_BLOCK, generator=g) for g in self.generators], dim=1)
            self.block = (u, n, d)
        self.t += 1
        assert self.block is not None
        return self.block[0][i], self.block[1][i], self.block[2][i]

    def keep(self, mask: torch.Tensor) -> None:
        """Keep the dreams where ``mask`` ``(n,)`` is true."""
        self.generators = [g for g, k in zip(self.generators, mask.tolist(), strict=True) if k]
        if self.block is not None:
            self.block = (self.block[0][:, mask], self.block[1][:, mask], self.block[2][:, mask])


class BatchedDream:
    """``N`` dreams stepped together. Starts are drawn from real first frames' latents (μ, log σ²).

    ``reset(seeds)`` → z ``(N, Z)``; ``step(actions (N, A))`` → (z, reward ``(N,)``, done ``(N,)`` bool).
    A dream ends when its done head fires (a Bernoulli draw of sigmoid(done logit) at τ = 1, the logit
    divided by τ otherwise) or after ``max_steps``.
    """

    def __init__(
        self,
        cell: MDNRNNCell,
        start_mu: np.ndarray,
        start_logvar: np.ndarray,
        temperature: float,
        max_steps: int,
    ) -> None:
        self.cell, self.temperature, self.max_steps = cell, temperature, max_steps
        self.start_mu = torch.as_tensor(start_mu, dtype=torch.float32)
        self.start_std = torch.as_tensor(start_logvar, dtype=torch.float32).mul(0.5).exp()
        self.t = 0

    @torch.no_grad()
    def reset(self, seeds: list[int]) -> torch.Tensor:
        """Start ``len(seeds)`` dreams; returns their first latents ``(N, Z)``."""
        self.noise = _DreamNoise(seeds, self.cell.z_dim)
        idx, eps = self.noise.start(len(self.start_mu))
        self.z = self.start_mu[idx] + self.start_std[idx] * eps
        self.state = self.cell.initial_state(len(seeds))
        self.rows = torch.arange(len(seeds))
        self.t = 0
        return self.z

    def keep(self, mask: torch.Tensor) -> None:
        """Go on with the dreams where ``mask`` ``(n,)`` is true only (ended dreams leave the batch)."""
        self.rows, self.z = self.rows[mask], self.z[mask]
        self.state = (self.state[0][:, mask], self.state[1][:, mask])
        self.noise.keep(mask)

    @torch.no_grad()
    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Advance every dream still in the batch one step under ``actions`` ``(n, A)``."""
        out, self.state = self.cell(self.z, actions, self.state)
        uniform, normal, done_u = self.noise.next()
        self.z = sample_with_noise(out, self.temperature, uniform, normal)
        self.t += 1
        done = done_u < torch.sigmoid(out.done_logit / max(self.temperature, 1e-6))
        if self.t >= self.max_steps:
            done = torch.ones_like(done)
        return self.z, out.reward, done


@torch.no_grad()
def dream_returns(
    dream: BatchedDream, spec: ControllerSpec, params: torch.Tensor, seeds: list[int], inputs: Inputs
) -> tuple[np.ndarray, np.ndarray]:
    """Play one dream per row of ``params`` ``(N, n_params)`` with ``seeds``; (returns ``(N,)``, steps ``(N,)``).

    A dream that ends leaves the batch (with its parameters and running total), so each step costs what the
    dreams still running need, and a step where none ends costs no re-indexing.
    """
    dream.reset(seeds)
    n = len(seeds)
    returns, lengths = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.int64)
    total = torch.zeros(n)
    while len(dream.rows):
        actions = spec.act(params, controller_features(dream.z, dream.state, inputs))
        _, reward, done = dream.step(actions)
        total += reward
        if done.any():
            ended, rows = done.numpy(), dream.rows.numpy()
            returns[rows[ended]], lengths[rows[ended]] = total.numpy()[ended], dream.t
            running = ~done
            dream.keep(running)
            total, params = total[running], params[running]
    return returns, lengths


class DreamEnv(gym.Env[np.ndarray, np.ndarray]):
    """One dream as a Gymnasium env: observation [z, h (, c)], action the stored-format vector of the game.

    The per-rollout interface (one Python step per dream step); :class:`BatchedDream` is the fast path.
    """

    def __init__(self, dream: BatchedDream, action_dim: int, inputs: Inputs = "zh") -> None:
        self.dream, self.inputs = dream, inputs
        dim = feature_dim(dream.cell.z_dim, dream.cell.hidden, inputs)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (dim,), np.float32)
        self.action_space = gym.spaces.Box(-np.inf, np.inf, (action_dim,), np.float32)

    def _obs(self, z: torch.Tensor) -> np.ndarray:
        return controller_features(z, self.dream.state, self.inputs)[0].numpy()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Start a dream (seed None = a fresh random seed)."""
        super().reset(seed=seed)
        z = self.dream.reset([seed if seed is not None else int(self.np_random.integers(2**31))])
        return self._obs(z), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """One dream step; truncated when ``max_steps`` is reached."""
        z, reward, done = self.dream.step(torch.as_tensor(action, dtype=torch.float32).view(1, -1))
        truncated = bool(done[0]) and self.dream.t >= self.dream.max_steps
        return self._obs(z), float(reward[0]), bool(done[0]) and not truncated, truncated, {}
