"""PPO's losses as pure functions of tensors."""

from __future__ import annotations

from typing import NamedTuple

import torch


class SurrogateTerms(NamedTuple):
    """The clipped-surrogate loss and its diagnostics (all scalars)."""

    loss: torch.Tensor
    approx_kl: torch.Tensor
    clip_fraction: torch.Tensor


def clipped_surrogate(
    new_logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, clip: float
) -> SurrogateTerms:
    """``-mean(min(r A, clip(r, 1 - eps, 1 + eps) A))`` with ``r = exp(new_logp - old_logp)``.

    All inputs ``(B,)``. ``approx_kl`` is the low-variance estimator ``mean((r - 1) - log r)``;
    ``clip_fraction`` the share of samples with ``|r - 1| > eps``.
    """
    log_ratio = new_logp - old_logp
    ratio = log_ratio.exp()
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * advantages
    loss = -torch.min(unclipped, clipped).mean()
    with torch.no_grad():
        approx_kl = ((ratio - 1.0) - log_ratio).mean()
        clip_fraction = ((ratio - 1.0).abs() > clip).float().mean()
    return SurrogateTerms(loss, approx_kl, clip_fraction)


def value_loss(values: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """``0.5 * mean((V - R)^2)`` over ``(B,)`` values and returns."""
    return 0.5 * (values - returns).pow(2).mean()
