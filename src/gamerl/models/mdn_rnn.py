"""The memory model M: an MDN-LSTM predicting the next latent, the reward and the end of the episode.

Input ``[z_t, a_t]`` → linear + ReLU (the seed's; ``embed=0`` leaves it out, as the paper) → LSTM → heads:
per latent dimension a mixture of K Gaussians (logits π, means μ, log σ), a reward and a done logit (the
paper's Doom model). :class:`MDNRNN` runs whole
sequences for training; :class:`MDNRNNCell` steps once for acting and dreaming. Both are the same module
layout, so one state dict loads into either.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)

State = tuple[torch.Tensor, torch.Tensor]
"""LSTM (h, c), each ``(layers, B, H)``"""


class MDNOutput(NamedTuple):
    """What M predicts for each input step."""

    pi_logits: torch.Tensor
    """(..., K, Z) unnormalised mixture weights"""
    mu: torch.Tensor
    """(..., K, Z)"""
    log_sigma: torch.Tensor
    """(..., K, Z)"""
    reward: torch.Tensor
    """(...,)"""
    done_logit: torch.Tensor
    """(...,)"""


class _MDNBase(nn.Module):
    def __init__(self, z_dim: int, action_dim: int, hidden: int, embed: int, gaussians: int, layers: int) -> None:
        super().__init__()
        self.z_dim, self.action_dim, self.hidden = z_dim, action_dim, hidden
        self.gaussians, self.layers = gaussians, layers
        self.embed = nn.Linear(z_dim + action_dim, embed) if embed else None
        self.lstm = nn.LSTM(embed or z_dim + action_dim, hidden, layers, batch_first=True)
        self.mdn = nn.Linear(hidden, 3 * gaussians * z_dim + 2)

    def initial_state(self, batch: int) -> State:
        """Zero (h, c) for ``batch`` sequences."""
        zeros = torch.zeros(self.layers, batch, self.hidden)
        return zeros, zeros.clone()

    def _inputs(self, z: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        x = torch.cat([z, action], dim=-1)
        return F.relu(self.embed(x)) if self.embed is not None else x

    def _heads(self, h: torch.Tensor) -> MDNOutput:
        out = self.mdn(h)
        k_z = self.gaussians * self.z_dim
        shape = (*out.shape[:-1], self.gaussians, self.z_dim)
        pi, mu, log_sigma = (out[..., i * k_z : (i + 1) * k_z].reshape(shape) for i in range(3))
        return MDNOutput(pi, mu, log_sigma, out[..., -2], out[..., -1])


class MDNRNN(_MDNBase):
    """Sequence: ``z`` ``(B, T, Z)``, ``action`` ``(B, T, A)`` → outputs ``(B, T, ...)``, final state."""

    def forward(self, z: torch.Tensor, action: torch.Tensor, state: State | None = None) -> tuple[MDNOutput, State]:
        """Run M over whole sequences (``state`` None = zeros)."""
        h, state = self.lstm(self._inputs(z, action), state)
        return self._heads(h), state


class MDNRNNCell(_MDNBase):
    """Single step: ``z`` ``(B, Z)``, ``action`` ``(B, A)``, ``state`` → outputs ``(B, ...)``, next state."""

    def forward(self, z: torch.Tensor, action: torch.Tensor, state: State) -> tuple[MDNOutput, State]:
        """One step of M (the same weights as :class:`MDNRNN`).

        Each layer is one ``torch.lstm_cell`` call on the LSTM's own weights: ``nn.LSTM`` on a length-1
        sequence costs several times more per call at small batches (acting, one dream at a time).
        """
        x, hs, cs = self._inputs(z, action), [], []
        for layer in range(self.layers):
            h, c = torch.lstm_cell(
                x,
                (state[0][layer], state[1][layer]),
                getattr(self.lstm, f"weight_ih_l{layer}"),
                getattr(self.lstm, f"weight_hh_l{layer}"),
                getattr(self.lstm, f"bias_ih_l{layer}"),
                getattr(self.lstm, f"bias_hh_l{layer}"),
            )
            hs.append(h)
            cs.append(c)
            x = h
        return self._heads(x), (torch.stack(hs), torch.stack(cs))


def gmm_nll(pi_logits: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of ``target`` under a per-dimension Gaussian mixture, computed in log space.

    ``pi_logits``, ``mu``, ``log_sigma``: ``(..., K, Z)``; ``target``: ``(..., Z)``. Returns ``(..., Z)``:
    ``-log Σ_k softmax(π)_k N(target; μ_k, σ_k)``, using log-softmax and logsumexp, so it stays finite where
    the direct form (softmax, exp, sum, log) under- or overflows.
    """
    log_pi = F.log_softmax(pi_logits, dim=-2)
    scaled = (target.unsqueeze(-2) - mu) * torch.exp(-log_sigma)
    log_normal = -0.5 * scaled.pow(2) - log_sigma - LOG_SQRT_2PI
    return -torch.logsumexp(log_pi + log_normal, dim=-2)


class MDNLosses(NamedTuple):
    """M's loss terms, each a scalar tensor; ``total`` is what the optimizer minimises."""

    total: torch.Tensor
    latent: torch.Tensor
    """mean over steps of the next-latent NLL summed over dimensions"""
    reward: torch.Tensor
    done: torch.Tensor


def mdn_loss(
    out: MDNOutput,
    next_z: torch.Tensor,
    reward: torch.Tensor,
    done: torch.Tensor,
    step_mask: torch.Tensor,
    next_mask: torch.Tensor,
    reward_weight: float = 1.0,
    done_weight: float = 1.0,
) -> MDNLosses:
    """M's loss on a batch: mixture NLL of z(t+1) where it exists, reward MSE and done BCE where t exists.

    ``out`` fields ``(B, T, ...)``; ``next_z`` ``(B, T, Z)``; ``reward``, ``done``, masks ``(B, T)``.
    """
    nll = gmm_nll(out.pi_logits, out.mu, out.log_sigma, next_z).sum(-1)
    latent = (nll * next_mask).sum() / next_mask.sum().clamp(min=1)
    n = step_mask.sum().clamp(min=1)
    reward_loss = ((out.reward - reward).pow(2) * step_mask).sum() / n
    done_loss = (F.binary_cross_entropy_with_logits(out.done_logit, done, reduction="none") * step_mask).sum() / n
    return MDNLosses(latent + reward_weight * reward_loss + done_weight * done_loss, latent, reward_loss, done_loss)


def sample_next(out: MDNOutput, temperature: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw z(t+1) ``(B, Z)`` from single-step outputs ``(B, K, Z)`` at temperature τ.

    Per dimension: a component from softmax(π/τ), then μ + σ·√τ·ε (the paper's dream temperature).
    """
    shape = out.mu[:, 0].shape
    uniform = torch.rand(shape, generator=generator)
    return sample_with_noise(out, temperature, uniform, torch.randn(shape, generator=generator))


def sample_with_noise(out: MDNOutput, temperature: float, uniform: torch.Tensor, normal: torch.Tensor) -> torch.Tensor:
    """z(t+1) ``(N, Z)`` from single-step outputs ``(N, K, Z)`` and given noise ``uniform``, ``normal`` ``(N, Z)``.

    Per dimension the component is the inverse CDF of softmax(π/τ) at ``uniform``; the value is
    μ + σ·√τ·``normal``. Given noise, each row is reproducible whatever else is in the batch.
    """
    probs = F.softmax(out.pi_logits / max(temperature, 1e-6), dim=1)
    cdf = probs.cumsum(dim=1)
    comp = (uniform.unsqueeze(1) > cdf).sum(dim=1, keepdim=True).clamp(max=probs.shape[1] - 1)
    mu = out.mu.gather(1, comp).squeeze(1)
    sigma = out.log_sigma.gather(1, comp).squeeze(1).exp()
    return mu + sigma * math.sqrt(temperature) * normal
