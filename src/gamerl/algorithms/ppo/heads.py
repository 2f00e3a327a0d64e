"""Action heads: how one agent's action is split into independent components, and their distributions.

A component is *categorical* (a discrete choice), *binned* (a bounded continuous value discretised
into evenly spaced bins, as the Derk report does with 9 bins) or *gaussian* (a continuous value with a
learned state-independent standard deviation). Actions of ``H`` heads travel as ``(B, H)`` float arrays:
category or bin indices for the first two kinds, raw values for gaussians.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from gymnasium import spaces
from torch.distributions import Normal

from gamerl.errors import ConfigError

Kind = Literal["categorical", "binned", "gaussian"]


@dataclasses.dataclass(frozen=True)
class Head:
    """One action component: its name (used in log keys), kind, size and bounds."""

    name: str
    kind: Kind
    size: int = 1
    """number of categories or bins (1 for gaussian)"""
    low: float = 0.0
    high: float = 1.0

    @property
    def n_params(self) -> int:
        """Network outputs this head needs: one logit per category/bin, one mean for a gaussian."""
        return 1 if self.kind == "gaussian" else self.size


def bins_to_values(indices: np.ndarray, head: Head) -> np.ndarray:
    """Bin indices ``(...)`` → values evenly spaced from ``head.low`` to ``head.high`` (both included)."""
    return head.low + np.asarray(indices, dtype=np.float64) * (head.high - head.low) / (head.size - 1)


def values_to_bins(values: np.ndarray, head: Head) -> np.ndarray:
    """Continuous values ``(...)`` → index of the nearest bin (values outside the bounds are clipped)."""
    scaled = (np.clip(values, head.low, head.high) - head.low) / (head.high - head.low) * (head.size - 1)
    return np.rint(scaled).astype(np.int64)


def heads_for_space(
    space: spaces.Space,
    continuous: Literal["binned", "gaussian"] = "binned",
    bins: int = 9,
    names: Sequence[str] | None = None,
) -> list[Head]:
    """Heads of a Gymnasium action space: Discrete, MultiDiscrete, 1-D Box, or a Tuple of those.

    Box dimensions become ``binned`` heads with ``bins`` bins, or ``gaussian`` heads.
    """
    if continuous == "binned" and bins < 2:
        raise ConfigError(f"bins must be >= 2, got {bins}: pass --bins 9")
    parts = list(space.spaces) if isinstance(space, spaces.Tuple) else [space]
    heads: list[tuple[Kind, int, float, float]] = []
    for part in parts:
        if isinstance(part, spaces.Discrete) and int(part.start) == 0:
            heads.append(("categorical", int(part.n), 0.0, 1.0))
        elif isinstance(part, spaces.MultiDiscrete) and part.nvec.ndim == 1:
            heads.extend(("categorical", int(n), 0.0, 1.0) for n in part.nvec)
        elif isinstance(part, spaces.Box) and len(part.shape) <= 1 and np.isfinite([part.low, part.high]).all():
            for low, high in zip(part.low.reshape(-1), part.high.reshape(-1), strict=True):
                heads.append((continuous, bins if continuous == "binned" else 1, float(low), float(high)))
        else:
            raise ConfigError(f"PPO cannot act in {part}: it acts in Discrete, MultiDiscrete, bounded 1-D Box, Tuples")
    names = list(names) if names is not None else [f"a{i}" for i in range(len(heads))]
    if len(names) != len(heads):
        raise ValueError(f"{len(names)} head names for {len(heads)} action components")
    return [Head(name, kind, size, low, high) for name, (kind, size, low, high) in zip(names, heads, strict=True)]


def env_values(actions: np.ndarray, heads: Sequence[Head]) -> np.ndarray:
    """``(B, H)`` head actions → ``(B, H)`` float64 values the env understands.

    Bins become their values, gaussians are clipped to their bounds, categories stay indices.
    """
    out = np.asarray(actions, dtype=np.float64).copy()
    for i, head in enumerate(heads):
        if head.kind == "binned":
            out[:, i] = bins_to_values(out[:, i], head)
        elif head.kind == "gaussian":
            out[:, i] = np.clip(out[:, i], head.low, head.high)
    return out


class HeadsDistribution:
    """Independent distributions, one per head, over a batch of ``B`` agents.

    Categorical and binned heads are kept as normalised log-probabilities, from which sampling, log-
    probabilities and entropies are one operation each: ``torch.distributions.Categorical`` recomputes
    the normalisation per call and took twice as long per minibatch (a 256-sample step, here). Gaussian
    heads are ``Normal`` distributions without argument validation.
    """

    def __init__(self, heads: Sequence[Head], params: torch.Tensor, log_std: torch.Tensor) -> None:
        """``params``: ``(B, sum n_params)`` network outputs; ``log_std``: ``(number of gaussian heads,)``."""
        self.heads = list(heads)
        self.parts: list[torch.Tensor | Normal] = []
        """per head: ``(B, size)`` log-probabilities, or a ``Normal`` over ``(B,)``"""
        chunks = torch.split(params, [h.n_params for h in self.heads], dim=-1)
        g = 0
        for head, chunk in zip(self.heads, chunks, strict=True):
            if head.kind == "gaussian":
                self.parts.append(
                    Normal(chunk.squeeze(-1), log_std[g].exp().expand(chunk.shape[0]), validate_args=False)
                )
                g += 1
            else:
                self.parts.append(chunk.log_softmax(-1))

    def sample(self) -> torch.Tensor:
        """A sampled action per agent: ``(B, H)`` float."""
        samples = [
            p.sample() if isinstance(p, Normal) else torch.multinomial(p.exp(), 1).squeeze(-1).float()
            for p in self.parts
        ]
        return torch.stack(samples, dim=-1)

    def mode(self) -> torch.Tensor:
        """The most likely action per agent: ``(B, H)`` float."""
        modes = [p.mean if isinstance(p, Normal) else p.argmax(-1).float() for p in self.parts]
        return torch.stack(modes, dim=-1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """Joint log-probability of ``(B, H)`` actions: ``(B,)``."""
        parts = [
            p.log_prob(actions[:, i]) if isinstance(p, Normal) else p.gather(-1, actions[:, i : i + 1].long())[:, 0]
            for i, p in enumerate(self.parts)
        ]
        return torch.stack(parts, dim=-1).sum(-1)

    def entropy(self) -> torch.Tensor:
        """Entropy of each head: ``(B, H)``."""
        return torch.stack([p.entropy() if isinstance(p, Normal) else -(p.exp() * p).sum(-1) for p in self.parts], -1)
