"""The dream: batched equals one-by-one on the same seeds, the sampler's distribution, the env interface."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from gamerl.algorithms.worldmodels.agent import DreamEvaluator
from gamerl.algorithms.worldmodels.dream_env import NOISE_BLOCK, BatchedDream, DreamEnv, feature_dim
from gamerl.evolution.evaluators import RolloutTask
from gamerl.models.controller import make_spec
from gamerl.models.mdn_rnn import MDNOutput, MDNRNNCell, sample_with_noise

Z, A, H = 4, 3, 16


def make_dream(max_steps: int = 40, temperature: float = 1.15, done_bias: float = -3.0) -> BatchedDream:
    torch.manual_seed(0)
    cell = MDNRNNCell(Z, A, H, 8, gaussians=3, layers=1).eval()
    with torch.no_grad():
        cell.mdn.bias[-1] = done_bias  # done logit: episodes last a while, not forever
    rng = np.random.default_rng(0)
    return BatchedDream(cell, rng.normal(size=(5, Z)), rng.normal(size=(5, Z)) - 2, temperature, max_steps)


@pytest.mark.parametrize(("max_steps", "done_bias"), [(40, -3.0), (300, -4.5)])
def test_batched_dream_equals_per_rollout_dream(max_steps: int, done_bias: float) -> None:
    dream = make_dream(max_steps, done_bias=done_bias)
    spec = make_spec(spaces.Discrete(A), feature_dim(Z, H, "zh"))
    params = np.random.default_rng(1).normal(size=(6, spec.n_params)).astype(np.float32)
    seeds = [11, 12, 11, 12, 13, 14, 15, 16, 17, 18]
    tasks = [RolloutTask(i // 2, params[i // 2], seed) for i, seed in enumerate(seeds)]
    batched = DreamEvaluator(dream, spec, "zh", batched=True).evaluate(tasks)
    alone = DreamEvaluator(dream, spec, "zh", batched=False).evaluate(tasks)
    assert [r.steps for r in batched] == [r.steps for r in alone]
    np.testing.assert_allclose([r.total_reward for r in batched], [r.total_reward for r in alone], rtol=1e-5)
    steps = sorted(r.steps for r in batched)
    assert len(set(steps)) > 1  # the done head ended dreams at different times
    assert steps[-1] <= max_steps
    if max_steps > NOISE_BLOCK:  # dreams ended inside a noise block and others ran on into the next ones
        assert steps[0] < NOISE_BLOCK < 2 * NOISE_BLOCK < steps[-1]


def test_sampler_matches_the_mixture() -> None:
    n = 200_000
    pi = torch.tensor([[0.0, np.log(3.0)]]).view(1, 2, 1).expand(n, 2, 1)
    mu = torch.tensor([-5.0, 5.0]).view(1, 2, 1).expand(n, 2, 1)
    log_sigma = torch.full((n, 2, 1), np.log(0.5))
    out = MDNOutput(pi, mu, log_sigma, torch.zeros(n), torch.zeros(n))
    gen = torch.Generator().manual_seed(0)
    z = sample_with_noise(out, 1.0, torch.rand(n, 1, generator=gen), torch.randn(n, 1, generator=gen))[:, 0]
    assert abs((z > 0).float().mean().item() - 0.75) < 0.005  # weights 1:3
    assert abs(z[z > 0].std().item() - 0.5) < 0.01
    # τ → 0: the likeliest component's mean
    first = MDNOutput(*(t[:10] for t in out))
    z0 = sample_with_noise(first, 1e-9, torch.rand(10, 1), torch.randn(10, 1))
    torch.testing.assert_close(z0, torch.full((10, 1), 5.0), atol=1e-3, rtol=0)


def test_dream_env_passes_gymnasiums_checker() -> None:
    env = DreamEnv(make_dream(), A, "zhc")
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=3)
    assert obs.shape == (Z + 2 * H,)
    total, steps, done = 0.0, 0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(np.eye(A, dtype=np.float32)[steps % A])
        total, steps, done = total + reward, steps + 1, terminated or truncated
    assert steps <= 40 and np.isfinite(total)
