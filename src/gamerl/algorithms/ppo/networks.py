"""Separate policy and value MLPs (no shared trunk), as in the Derk report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from gamerl.algorithms.ppo.heads import Head, HeadsDistribution
from gamerl.config.ppo import Precision
from gamerl.errors import ConfigError

SIGMOID_TANH_MIN = 8192
"""below this many values ``torch.tanh`` costs less than the extra operations (``bench/tanh.py``: 32 x 64)"""


def _tanh_by_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """tanh(x) as 2·sigmoid(2x) − 1, a new tensor of ``x``'s shape."""
    return torch.sigmoid(x * 2).mul_(2).sub_(1)


class _TanhFromSigmoid(torch.autograd.Function):
    """:func:`_tanh_by_sigmoid` forward, PyTorch's own ``tanh_backward`` from the output backward."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        y = _tanh_by_sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        (y,) = ctx.saved_tensors  # type: ignore[attr-defined]
        return torch.ops.aten.tanh_backward(grad, y)


class Tanh(nn.Module):
    """``nn.Tanh`` with a faster CPU forward: PyTorch's CPU ``tanh`` is not vectorised (about 2-3 ns an
    element here), its ``sigmoid`` is, so on the CPU tanh is computed as 2·sigmoid(2x) − 1 (within 2e-7 of
    ``torch.tanh``; ``bench/tanh.py`` times both). Other devices and small tensors use ``torch.tanh``.
    No parameters."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Elementwise tanh, any shape."""
        if x.device.type != "cpu" or x.numel() < SIGMOID_TANH_MIN:
            return torch.tanh(x)
        if torch.is_grad_enabled() and x.requires_grad:
            return _TanhFromSigmoid.apply(x)  # type: ignore[no-any-return]
        return _tanh_by_sigmoid(x)  # acting: no graph, no autograd.Function overhead


class MLP(nn.Sequential):
    """Tanh MLP ``(B, in_dim) → hidden… → (B, out_dim)``, float32 out, with orthogonal weights (the last
    layer's scaled by ``out_gain``): ``Linear, Tanh, …, Linear``.

    With ``precision`` bfloat16 (or auto, on a CPU with native bfloat16: :func:`computes_in_bfloat16`) the
    hidden layers compute under autocast in bfloat16 and the last layer in float32 from their features
    (weights, gradients and optimizer stay float32, so do the heads and losses). The layers and their
    state-dict keys do not depend on ``precision``.
    """

    def __init__(
        self, in_dim: int, hidden: Sequence[int], out_dim: int, out_gain: float, precision: Precision = "float32"
    ) -> None:
        layers: list[nn.Module] = []
        sizes = [in_dim, *hidden]
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [_init(nn.Linear(a, b), np.sqrt(2)), Tanh()]
        layers.append(_init(nn.Linear(sizes[-1], out_dim), out_gain))
        super().__init__(*layers)
        self.precision = precision

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_dim)`` → ``(B, out_dim)`` float32."""
        if not computes_in_bfloat16(self.precision, x.device):
            return super().forward(x)
        *hidden, last = self
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            for layer in hidden:
                x = layer(x)
        return last(x.float())


def _init(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class PixelEncoder(nn.Module):
    """The Nature-DQN convolutions: ``(B, C·84·84)`` flat frames (uint8, or float32 of uint8 values) →
    ``(B, 512)`` float32 features.

    Frames and convolution weights are kept channels-last (NHWC): oneDNN's CPU convolutions train
    about 1.6x faster in that layout than in NCHW (measured here on a batch of 256 frames).
    With ``precision`` bfloat16 the layers compute under autocast in bfloat16 (float32 weights, gradients
    and optimizer; float32 features out, so heads and losses stay float32): PPO trained Pong at 1.64x the
    float32 agent-steps/s with one torch thread, 1.43x with two, on the AVX-512 BF16 CPU of
    ``docs/results/pong_ppo_cpu.md`` (``bench/ppo.py --pong``).
    """

    def __init__(self, obs_shape: Sequence[int], precision: Precision = "auto") -> None:
        super().__init__()
        self.obs_shape = tuple(obs_shape)
        self.precision = precision
        c, h, w = self.obs_shape
        self.conv = nn.Sequential(
            _conv(nn.Conv2d(c, 32, 8, stride=4)),
            nn.ReLU(),
            _conv(nn.Conv2d(32, 64, 4, stride=2)),
            nn.ReLU(),
            _conv(nn.Conv2d(64, 64, 3, stride=1)),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            n = self.conv(torch.zeros(1, c, h, w)).shape[1]
        self.out = nn.Sequential(_init(nn.Linear(n, 512), np.sqrt(2)), nn.ReLU())
        self.conv.to(memory_format=torch.channels_last)

    def prepare(self, obs: torch.Tensor) -> torch.Tensor:
        """``(B, C·H·W)`` flat frames → ``(B, C, H, W)`` channels-last, scaled from [0, 255] to [0, 1], in the
        dtype the layers compute in. Memory-bound: a PPO update prepares its rollout once, not every minibatch."""
        frames = obs.view(-1, *self.obs_shape).contiguous(memory_format=torch.channels_last)
        dtype = torch.bfloat16 if computes_in_bfloat16(self.precision, frames.device) else torch.float32
        return frames.to(dtype) / 255.0

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Features of flat frames, or of ``(B, C, H, W)`` frames already through :meth:`prepare`."""
        frames = obs if obs.dim() == 4 else self.prepare(obs)
        with torch.autocast(frames.device.type, dtype=torch.bfloat16, enabled=frames.dtype == torch.bfloat16):
            features = self.out(self.conv(frames))
        return features.float()


def computes_in_bfloat16(precision: Precision, device: torch.device) -> bool:
    """Whether a :class:`PixelEncoder` or :class:`MLP` with ``precision`` computes in bfloat16 on ``device``."""
    if precision != "auto":
        return precision == "bfloat16"
    return device.type == "cpu" and (torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def _conv(layer: nn.Conv2d) -> nn.Conv2d:
    nn.init.orthogonal_(layer.weight, np.sqrt(2))
    nn.init.zeros_(layer.bias)
    return layer


def network(
    obs_shape: Sequence[int],
    hidden: Sequence[int],
    out_dim: int,
    out_gain: float,
    precision: Precision = "auto",
    mlp_precision: Precision = "float32",
) -> nn.Sequential:
    """An :class:`MLP` (computing in ``mlp_precision``) on vector observations; on ``(C, H, W)`` frames, a
    :class:`PixelEncoder` (computing in ``precision``) then the MLP."""
    if len(obs_shape) == 3:
        return nn.Sequential(PixelEncoder(obs_shape, precision), MLP(512, hidden, out_dim, out_gain, mlp_precision))
    return MLP(int(np.prod(obs_shape)), hidden, out_dim, out_gain, mlp_precision)


class ActorCritic(nn.Module):
    """Policy network → parameters of every action head; value network → one state value.

    Observations: ``(B, prod(obs_shape))``, flat, float32 or uint8 frames (reshaped inside). Two separate
    networks, no shared trunk, unless ``share_encoder``: then one :class:`PixelEncoder` feeds both
    (as SB3's ``CnnPolicy`` and CleanRL's Atari PPO), trained with the policy's parameters. Pixel encoders
    compute in ``pixel_precision``, the MLPs' hidden layers in ``mlp_precision``. One set of weights is shared
    by all agents of a team.
    """

    def __init__(
        self,
        obs_shape: Sequence[int],
        heads: Sequence[Head],
        policy_hidden: Sequence[int],
        value_hidden: Sequence[int],
        share_encoder: bool = False,
        pixel_precision: Precision = "auto",
        mlp_precision: Precision = "float32",
    ) -> None:
        super().__init__()
        if share_encoder and len(obs_shape) != 3:
            raise ConfigError(f"share_encoder needs (C, H, W) frames, got observations of shape {tuple(obs_shape)}")
        self.obs_shape = tuple(obs_shape)
        self.heads = list(heads)
        self.encoder: nn.Module = PixelEncoder(obs_shape, pixel_precision) if share_encoder else nn.Identity()
        features = (512,) if share_encoder else obs_shape
        n_params = sum(h.n_params for h in self.heads)
        self.policy = network(features, policy_hidden, n_params, 0.01, pixel_precision, mlp_precision)
        self.value = network(features, value_hidden, 1, 1.0, pixel_precision, mlp_precision)
        self.log_std = nn.Parameter(torch.zeros(sum(h.kind == "gaussian" for h in self.heads)))

    def prepare(self, obs: torch.Tensor) -> torch.Tensor:
        """Observations as the networks take them (see :meth:`PixelEncoder.prepare`), for many passes over
        the same ``(B, prod(obs_shape))`` batch; vector observations are returned as they are."""
        encoder = next((m for m in self.modules() if isinstance(m, PixelEncoder)), None)
        return obs if encoder is None else encoder.prepare(obs)

    def forward(self, obs: torch.Tensor) -> tuple[HeadsDistribution, torch.Tensor]:
        """Action distribution and ``(B,)`` state values for flat or prepared observations, encoding shared
        frames once."""
        features = self.encoder(obs)
        return HeadsDistribution(self.heads, self.policy(features), self.log_std), self.value(features).squeeze(-1)

    def dist(self, obs: torch.Tensor) -> HeadsDistribution:
        """Action distribution for ``(B, prod(obs_shape))`` observations."""
        return HeadsDistribution(self.heads, self.policy(self.encoder(obs)), self.log_std)

    def state_value(self, obs: torch.Tensor) -> torch.Tensor:
        """State values: ``(B,)``."""
        return self.value(self.encoder(obs)).squeeze(-1)

    def policy_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by the policy optimizer (a shared encoder, the policy net, gaussian log-stds)."""
        return [*self.encoder.parameters(), *self.policy.parameters(), self.log_std]
