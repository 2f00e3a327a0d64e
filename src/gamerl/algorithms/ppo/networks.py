"""Separate policy and value MLPs (no shared trunk), as in the Derk report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from gamerl.algorithms.ppo.heads import Head, HeadsDistribution


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int, out_gain: float) -> nn.Sequential:
    """Tanh MLP ``in_dim → hidden… → out_dim`` with orthogonal weights (last layer scaled by ``out_gain``)."""
    layers: list[nn.Module] = []
    sizes = [in_dim, *hidden]
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [_init(nn.Linear(a, b), np.sqrt(2)), nn.Tanh()]
    layers.append(_init(nn.Linear(sizes[-1], out_dim), out_gain))
    return nn.Sequential(*layers)


def _init(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class ActorCritic(nn.Module):
    """Policy network → parameters of every action head; value network → one state value.

    Observations: ``(B, obs_dim)`` float32. One set of weights is shared by all agents of a team.
    """

    def __init__(
        self, obs_dim: int, heads: Sequence[Head], policy_hidden: Sequence[int], value_hidden: Sequence[int]
    ) -> None:
        super().__init__()
        self.heads = list(heads)
        self.policy = mlp(obs_dim, policy_hidden, sum(h.n_params for h in self.heads), out_gain=0.01)
        self.value = mlp(obs_dim, value_hidden, 1, out_gain=1.0)
        self.log_std = nn.Parameter(torch.zeros(sum(h.kind == "gaussian" for h in self.heads)))

    def dist(self, obs: torch.Tensor) -> HeadsDistribution:
        """Action distribution for ``(B, obs_dim)`` observations."""
        return HeadsDistribution(self.heads, self.policy(obs), self.log_std)

    def state_value(self, obs: torch.Tensor) -> torch.Tensor:
        """State values: ``(B,)``."""
        return self.value(obs).squeeze(-1)

    def policy_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by the policy optimizer (policy net and gaussian log-stds)."""
        return [*self.policy.parameters(), self.log_std]
