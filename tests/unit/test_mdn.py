"""M: the mixture loss against a brute-force density (extreme values included), sequence vs cell, sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import special, stats

from gamerl.data.datasets import Latents, sample_sequences
from gamerl.models.mdn_rnn import MDNRNN, MDNOutput, MDNRNNCell, gmm_nll, mdn_loss, sample_next


def brute_force_nll(pi_logits: np.ndarray, mu: np.ndarray, log_sigma: np.ndarray, y: np.ndarray) -> np.ndarray:
    """-log Σ_k π_k N(y; μ_k, σ_k), straight from the definition, in float64: (..., K, Z) → (..., Z)."""
    pi = special.softmax(pi_logits.astype(np.float64), axis=-2)
    density = stats.norm.pdf(y[..., None, :], loc=mu, scale=np.exp(log_sigma.astype(np.float64)))
    return -np.log((pi * density).sum(-2))


def log_space_nll(pi_logits: np.ndarray, mu: np.ndarray, log_sigma: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The same density in float64 log space (scipy), for values where the direct form under/overflows."""
    log_pi = special.log_softmax(pi_logits.astype(np.float64), axis=-2)
    log_n = stats.norm.logpdf(y[..., None, :].astype(np.float64), loc=mu, scale=np.exp(log_sigma.astype(np.float64)))
    return -special.logsumexp(log_pi + log_n, axis=-2)


def test_gmm_nll_matches_the_brute_force_density() -> None:
    rng = np.random.default_rng(0)
    pi, mu = rng.normal(size=(4, 6, 5, 3)), rng.normal(size=(4, 6, 5, 3))
    log_sigma, y = rng.uniform(-1, 1, size=(4, 6, 5, 3)), rng.normal(size=(4, 6, 3))
    got = gmm_nll(*(torch.tensor(a, dtype=torch.float32) for a in (pi, mu, log_sigma, y))).numpy()
    np.testing.assert_allclose(got, brute_force_nll(pi, mu, log_sigma, y), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("pi_scale", "mu_shift", "log_sigma_range"),
    [
        (1e4, 0.0, (-1, 1)),
        (1.0, 1e3, (-1, 1)),
        (1.0, 0.0, (-12, -8)),
        (1.0, 30.0, (-6, -4)),
        (50.0, 0.0, (8, 12)),
    ],
    ids=["huge-logits", "far-target", "tiny-sigma", "far-and-narrow", "wide"],
)
def test_gmm_nll_is_finite_and_exact_at_extreme_values(pi_scale: float, mu_shift: float, log_sigma_range) -> None:
    rng = np.random.default_rng(1)
    pi = rng.normal(size=(8, 5, 4)) * pi_scale
    mu = rng.normal(size=(8, 5, 4)) + mu_shift
    log_sigma = rng.uniform(*log_sigma_range, size=(8, 5, 4))
    y = rng.normal(size=(8, 4))
    tensors = [torch.tensor(a, dtype=torch.float32) for a in (pi, mu, log_sigma, y)]
    got = gmm_nll(*tensors).numpy()
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, log_space_nll(pi, mu, log_sigma, y), rtol=1e-4, atol=1e-3)
    # the seed's direct form (softmax · exp(log_prob), sum, log(eps + ·)) breaks on the same input
    pi_t, mu_t, ls_t, y_t = tensors
    density = torch.exp(torch.distributions.Normal(mu_t, ls_t.exp()).log_prob(y_t[:, None]))
    naive = -torch.log(1e-6 + (torch.softmax(pi_t, dim=-2) * density).sum(-2))
    assert not np.allclose(naive.numpy(), got, rtol=1e-3) or not np.isfinite(naive.numpy()).all()


def test_gmm_nll_gradients_stay_finite_at_extremes() -> None:
    pi = torch.tensor([[[1e4], [-1e4]]], requires_grad=True)
    mu = torch.tensor([[[1e3], [0.0]]], requires_grad=True)
    log_sigma = torch.tensor([[[-10.0], [10.0]]], requires_grad=True)
    gmm_nll(pi, mu, log_sigma, torch.zeros(1, 1)).sum().backward()
    assert all(torch.isfinite(t.grad).all() for t in (pi, mu, log_sigma))


@pytest.mark.parametrize("embed", [12, 0])
def test_sequence_model_and_cell_share_one_state_dict(embed: int) -> None:
    torch.manual_seed(0)
    seq = MDNRNN(z_dim=6, action_dim=3, hidden=16, embed=embed, gaussians=4, layers=2)
    cell = MDNRNNCell(6, 3, 16, embed, 4, 2)
    cell.load_state_dict(seq.state_dict())
    assert any(k.startswith("embed.") for k in seq.state_dict()) == bool(embed)
    z, a = torch.randn(2, 9, 6), torch.rand(2, 9, 3)
    out, (h, c) = seq(z, a)
    state = cell.initial_state(2)
    for t in range(9):
        step, state = cell(z[:, t], a[:, t], state)
        for name in MDNOutput._fields:
            torch.testing.assert_close(getattr(step, name), getattr(out, name)[:, t])
    torch.testing.assert_close(state[0], h)
    assert out.pi_logits.shape == (2, 9, 4, 6) and out.reward.shape == (2, 9)


def test_loss_ignores_masked_steps() -> None:
    torch.manual_seed(0)
    out = MDNOutput(
        torch.randn(2, 3, 2, 4),
        torch.randn(2, 3, 2, 4),
        torch.zeros(2, 3, 2, 4),
        torch.zeros(2, 3),
        torch.zeros(2, 3),
    )
    target = torch.randn(2, 3, 4)
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    garbage = target.clone()
    garbage[mask == 0] = 1e6
    a = mdn_loss(out, target, torch.zeros(2, 3), torch.zeros(2, 3), mask, mask)
    b = mdn_loss(out, garbage, torch.zeros(2, 3), torch.zeros(2, 3), mask, mask)
    torch.testing.assert_close(a.total, b.total)


def test_zero_temperature_samples_the_likeliest_component_mean() -> None:
    pi = torch.tensor([[[5.0, -5.0], [-5.0, 5.0]]])  # (1, K=2, Z=2)
    mu = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    out = MDNOutput(pi, mu, torch.zeros(1, 2, 2), torch.zeros(1), torch.zeros(1))
    torch.testing.assert_close(sample_next(out, 0.0), torch.tensor([[1.0, 4.0]]))
    samples = torch.cat([sample_next(out, 1.0, torch.Generator().manual_seed(s)) for s in range(200)])
    assert samples.std(0).min() > 0.5  # τ = 1 keeps σ = 1 noise


def test_sequences_pair_each_step_with_the_next_latent() -> None:
    n = np.array([5, 12])
    mu = np.arange(17, dtype=np.float32)[:, None].repeat(2, 1)
    latents = Latents(
        mu,
        np.zeros_like(mu),
        np.ones((17, 1), np.float32),
        np.arange(17, dtype=np.float32),
        np.isin(np.arange(17), [4]),
        np.array([0, 5]),
        n,
        64,
        4,
    )
    batch = sample_sequences(latents, 64, 8, np.random.default_rng(0))
    for b in range(64):
        steps = int(batch.step_mask[b].sum())
        assert steps in (5, 8)
        inputs, targets = batch.mu[b, :steps, 0], batch.mu[b, 1 : steps + 1, 0]
        has_next = batch.next_mask[b, :steps] == 1
        np.testing.assert_array_equal(targets[has_next], inputs[has_next] + 1)  # z(t+1) of the same episode
        np.testing.assert_array_equal(batch.rewards[b, :steps], inputs)
        if steps == 5:  # the whole short episode: its last step has no next latent and is the terminal one
            assert not has_next[-1] and batch.dones[b, 4] == 1
