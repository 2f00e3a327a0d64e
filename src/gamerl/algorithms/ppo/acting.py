"""How a rollout acts: each agent row's sampled action, its log-probability and its state value.

Acting runs once per env step on a small batch, where PyTorch's cost per operation (a few µs) outweighs
the arithmetic: CartPole's 32 x 4 observations through both 64-64 MLPs, a sample and its log-probability
took ≈86 µs with PyTorch and ≈36 µs with NumPy here. So MLPs on the CPU act through
:class:`NumpyActor`, on NumPy views of the weights; pixel encoders and GPUs through :class:`TorchActor`.
Both take and return NumPy arrays. An actor is made for one rollout (the weights do not change during it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple, Protocol

import numpy as np
import torch
from torch import nn

from gamerl.algorithms.ppo.heads import Head
from gamerl.algorithms.ppo.networks import ActorCritic, Tanh


class Acting(NamedTuple):
    """What the rollout keeps of one step's decision, for ``N`` agent rows and ``H`` heads."""

    actions: np.ndarray
    """``(N, H)`` float32 head actions (see :mod:`heads`)"""
    logp: np.ndarray
    """``(N,)`` float32 joint log-probability of ``actions``"""
    values: np.ndarray
    """``(N,)`` float32 state values"""


class Actor(Protocol):
    """Samples actions of the current policy for ``(N, prod(obs_shape))`` float32 observations."""

    def act(self, obs: np.ndarray) -> Acting:
        """Sampled actions, their log-probabilities and the state values."""
        ...

    def sample(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sampled ``(N, H)`` actions and their ``(N,)`` log-probabilities, without the value network."""
        ...

    def state_value(self, obs: np.ndarray) -> np.ndarray:
        """``(N,)`` float32 state values."""
        ...


def make_actor(model: ActorCritic, rng: np.random.Generator) -> Actor:
    """A :class:`NumpyActor` for a pair of CPU float32 Linear/tanh MLPs on flat observations (drawing from
    ``rng``), else a :class:`TorchActor` (drawing from torch's RNG)."""
    policy, value = _numpy_layers(model.policy), _numpy_layers(model.value)
    if policy is None or value is None or not isinstance(model.encoder, nn.Identity):
        return TorchActor(model)
    return NumpyActor(policy, value, model.heads, model.log_std.detach().cpu().numpy(), rng)


class TorchActor:
    """Acts with a copy of the model made for acting (:meth:`ActorCritic.for_acting`), on its device."""

    def __init__(self, model: ActorCritic) -> None:
        self.model = model.for_acting()
        self.device = model.log_std.device

    def act(self, obs: np.ndarray) -> Acting:
        """Sampled actions, their log-probabilities and the state values."""
        with torch.inference_mode():
            dist, values = self.model(torch.from_numpy(obs).to(self.device))
            actions = dist.sample()
            logp = dist.log_prob(actions)
        return Acting(actions.cpu().numpy(), logp.cpu().numpy(), values.cpu().numpy())

    def sample(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sampled actions and their log-probabilities, without the value network."""
        with torch.inference_mode():
            dist = self.model.dist(torch.from_numpy(obs).to(self.device))
            actions = dist.sample()
            return actions.cpu().numpy(), dist.log_prob(actions).cpu().numpy()

    def state_value(self, obs: np.ndarray) -> np.ndarray:
        """``(N,)`` float32 state values."""
        with torch.inference_mode():
            return self.model.state_value(torch.from_numpy(obs).to(self.device)).cpu().numpy()


Layers = list[tuple[np.ndarray, np.ndarray]]
"""an MLP as ``(weight (out, in), bias (out,))`` pairs, tanh between them"""


def _numpy_layers(net: nn.Module) -> Layers | None:
    """The ``Linear``/``Tanh`` MLP ``net`` as views of its CPU float32 weights; None for any other network."""
    if not isinstance(net, nn.Sequential) or len(net) % 2 != 1:
        return None
    linears, activations = list(net)[::2], list(net)[1::2]
    if not all(isinstance(m, nn.Linear) and m.bias is not None for m in linears):
        return None
    if not all(isinstance(m, (Tanh, nn.Tanh)) for m in activations):
        return None
    params = [p for m in linears for p in (m.weight, m.bias)]
    if not all(p.device.type == "cpu" and p.dtype == torch.float32 for p in params):
        return None
    return [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in linears]


def _forward(layers: Layers, x: np.ndarray) -> np.ndarray:
    """``(N, in)`` → ``(N, out)`` through the MLP."""
    for i, (weight, bias) in enumerate(layers):
        x = x @ weight.T
        x += bias
        if i < len(layers) - 1:
            np.tanh(x, out=x)
    return x


class NumpyActor:
    """Acts with a model's MLPs evaluated by NumPy, drawing from ``rng``.

    Samples have the distribution of the model's :class:`~gamerl.algorithms.ppo.heads.HeadsDistribution`
    (categorical and binned heads by inverting the cumulative probabilities, gaussian heads as
    ``mean + std * N(0, 1)``), and their log-probabilities agree with it to float32 rounding.
    """

    def __init__(
        self, policy: Layers, value: Layers, heads: Sequence[Head], log_std: np.ndarray, rng: np.random.Generator
    ) -> None:
        """``policy``/``value``: the model's MLPs (see :func:`make_actor`); ``log_std``: one per gaussian head."""
        self.policy, self.value = policy, value
        self.heads = list(heads)
        self.std = np.exp(log_std)
        self.rng = rng

    def act(self, obs: np.ndarray) -> Acting:
        """Sampled actions, their log-probabilities and the state values."""
        return Acting(*self.sample(obs), self.state_value(obs))

    def sample(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sampled actions and their log-probabilities, without the value network."""
        params = _forward(self.policy, obs)
        actions = np.empty((len(obs), len(self.heads)), dtype=np.float32)
        logp = np.zeros(len(obs), dtype=np.float32)
        start, g = 0, 0
        for i, head in enumerate(self.heads):
            chunk = params[:, start : start + head.n_params]
            start += head.n_params
            if head.kind == "gaussian":
                std = self.std[g]
                g += 1
                mean = chunk[:, 0]
                noise = self.rng.standard_normal(len(obs), dtype=np.float32)
                actions[:, i] = mean + std * noise
                logp -= 0.5 * noise**2 + math.log(std) + 0.5 * math.log(2 * math.pi)
            else:
                shifted = chunk - chunk.max(-1, keepdims=True)
                log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
                cdf = np.cumsum(np.exp(log_probs), -1)
                u = self.rng.random(len(obs), dtype=np.float32)[:, None] * cdf[:, -1:]
                choice = (cdf < u).sum(-1)  # the first category whose cumulative probability reaches u
                actions[:, i] = choice
                logp += np.take_along_axis(log_probs, choice[:, None], -1)[:, 0]
        return actions, logp

    def state_value(self, obs: np.ndarray) -> np.ndarray:
        """``(N,)`` float32 state values."""
        return _forward(self.value, obs)[:, 0]
