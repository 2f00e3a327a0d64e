"""Separate policy and value MLPs (no shared trunk), as in the Derk report."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from copy import deepcopy

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


class _LinearTanhBF16(torch.autograd.Function):
    """``tanh(x @ weight.T + bias)`` in bfloat16 on the CPU, the tanh applied by oneDNN inside the matmul
    (``mkldnn._linear_pointwise``), not as passes of its own over the output: ``(B, in) → (B, out)``
    bfloat16, float32 gradients for the float32 ``weight`` and ``bias``. The backward pass is autocast's:
    ``tanh_backward``, then bfloat16 products."""

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
    ) -> torch.Tensor:
        x, weight_bf16 = x.to(torch.bfloat16), weight.to(torch.bfloat16)
        y = torch.ops.mkldnn._linear_pointwise(x, weight_bf16, bias.to(torch.bfloat16), "tanh", [], "")
        ctx.save_for_backward(x, weight_bf16, y)
        return y

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
        x, weight_bf16, y = ctx.saved_tensors  # type: ignore[attr-defined]
        grad = torch.ops.aten.tanh_backward(grad, y)
        grad_x = grad @ weight_bf16 if ctx.needs_input_grad[0] else None  # type: ignore[attr-defined]
        return grad_x, (grad.t() @ x).float(), grad.sum(0).float()


def onednn_bfloat16(device: torch.device) -> bool:
    """Whether bfloat16 layers on ``device`` run as oneDNN calls with their activation fused in (CPUs where
    oneDNN computes in bfloat16): a bfloat16 :class:`MLP`'s hidden layers (:class:`_LinearTanhBF16`), an acting
    :class:`PixelEncoder`'s layers (:class:`_PackedReLULayers`). x86 CPUs only: these are PyTorch's own fused
    oneDNN operators (the ones ``torch.compile`` uses on x86), not built on every platform."""
    return (
        device.type == "cpu"
        and platform.machine().lower() in ("x86_64", "amd64")
        and torch.backends.mkldnn.is_available()
        and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


class MLP(nn.Sequential):
    """Tanh MLP ``(B, in_dim) → hidden… → (B, out_dim)``, float32 out, with orthogonal weights (the last
    layer's scaled by ``out_gain``): ``Linear, Tanh, …, Linear``.

    With ``precision`` bfloat16 (or auto, on a CPU with native bfloat16: :func:`computes_in_bfloat16`) the
    hidden layers compute in bfloat16 and the last layer in float32 from their features (weights, gradients
    and optimizer stay float32, so do the heads and losses). Where :func:`onednn_bfloat16`, each hidden layer
    is one oneDNN matmul with its tanh fused in (:class:`_LinearTanhBF16`): a Derk update took 0.74–0.82x the time
    of autocast's matmul then tanh here (``bench/mlp_bf16.py``); elsewhere they run under autocast. The layers and
    their state-dict keys do not depend on ``precision``.
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
        if onednn_bfloat16(x.device):
            for linear in hidden[::2]:
                x = _LinearTanhBF16.apply(x, linear.weight, linear.bias)
        else:
            with torch.autocast(x.device.type, dtype=torch.bfloat16):
                for layer in hidden:
                    x = layer(x)
        return last(x.float())


def _init(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


_WORDS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
"""integer dtypes by size in bytes"""


class ByteFrameConv2d(nn.Conv2d):
    """A pixel encoder's first convolution, ``nn.Conv2d(C, O, kernel, stride)`` with a stride that divides
    the kernel (the Nature CNN's: 8x8, stride 4), on frames of byte values 0–255: it computes the
    convolution of ``frames / 255``, with the same parameters and state-dict keys.

    - It convolves space-to-depth blocks of the frames (:meth:`blocks`, made once per batch of frames:
      ``stride x stride`` pixels of every channel become ``C·stride²`` channels) with the same weights
      rearranged into a ``kernel/stride``-wide, stride-1 kernel. Four input channels use oneDNN's
      convolutions poorly, 64 well: forward and weight gradient over 256 Pong frames in bfloat16 took
      9.4 instead of 13.7 ms here.
    - The 1/255 is applied to the weight in the forward pass, so the frames need no scaling pass of their
      own (a pass over every rollout frame, as long as converting them).
    """

    divisor = 255.0

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int) -> None:
        if kernel_size % stride:
            raise ValueError(f"ByteFrameConv2d needs a stride that divides the kernel, got {kernel_size}, {stride}")
        super().__init__(in_channels, out_channels, kernel_size, stride=stride)

    def blocks(self, frames: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` frames → ``(B, C·s², H', W')`` channels-last space-to-depth blocks of the same dtype
        (``s`` the stride; channel ``(c·s + dy)·s + dx`` holds pixel ``(dy, dx)`` of channel ``c`` of a
        block), the rows and columns that no output reaches left out. Byte frames move a block row of a
        channel (``s`` bytes) as one word: 4 Pong frames took 0.07 instead of 0.14 ms here."""
        s, k = self.stride[0], self.kernel_size[0]
        b, c, h, w = frames.shape
        bh, bw = (h - k) // s + k // s, (w - k) // s + k // s  # output size + kernel blocks - 1
        pixels = frames[:, :, : bh * s, : bw * s]
        word = _WORDS.get(s) if frames.dtype == torch.uint8 else None
        if word is None:
            out = torch.empty((b, bh, bw, c, s, s), dtype=frames.dtype, device=frames.device)
            out.copy_(pixels.reshape(b, c, bh, s, bw, s).permute(0, 2, 4, 1, 3, 5))
        else:
            words = pixels.contiguous().view(word).view(b, c, bh, s, bw)
            out = torch.empty((b, bh, bw, c, s), dtype=word, device=frames.device)
            out.copy_(words.permute(0, 2, 4, 1, 3))
            out = out.view(torch.uint8)
        return out.view(b, bh, bw, c * s * s).permute(0, 3, 1, 2)

    def block_weight(self) -> torch.Tensor:
        """The weight (divided by the divisor) as the ``(O, C·s², k/s, k/s)`` stride-1 kernel over blocks."""
        s, k = self.stride[0], self.kernel_size[0]
        weight = self.weight if self.divisor == 1 else self.weight / self.divisor
        o, c = weight.shape[:2]
        # (O, C, ky, kx) with ky = s·by + dy → (O, C·s² [c, dy, dx], by, bx)
        weight = weight.reshape(o, c, k // s, s, k // s, s).permute(0, 1, 3, 5, 2, 4)
        return weight.reshape(o, c * s * s, k // s, k // s)

    def forward(self, blocks: torch.Tensor) -> torch.Tensor:
        """``(B, C·s², H', W')`` byte-value blocks of :meth:`blocks`, floating point → the convolution of
        ``frames / 255``: ``(B, O, H_out, W_out)``."""
        return nn.functional.conv2d(blocks, self.block_weight(), self.bias)

    def fold_divisor_(self) -> None:
        """In place, for a copy that only acts: the weight becomes ``weight / 255``, used as it is (the same
        outputs, bit for bit)."""
        with torch.no_grad():
            self.weight.div_(self.divisor)
        self.divisor = 1.0


def _conv_kernel(conv: nn.Conv2d) -> tuple[torch.Tensor, list[int]]:
    """The weight and stride ``conv`` computes with: a :class:`ByteFrameConv2d`'s stride-1 kernel over blocks
    (:meth:`ByteFrameConv2d.block_weight`), another convolution's own. No padding, in the encoder's layers."""
    if isinstance(conv, ByteFrameConv2d):
        return conv.block_weight(), [1, 1]
    return conv.weight, list(conv.stride)


def _onednn_conv_relu(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: list[int]
) -> torch.Tensor:
    """``relu(conv2d(x, weight, bias, stride))`` (no padding) as one oneDNN call with the ReLU fused in; ``weight``
    dense or packed by ``mkldnn._reorder_convolution_weight``."""
    return torch.ops.mkldnn._convolution_pointwise(x, weight, bias, [0, 0], stride, [1, 1], 1, "relu", [], "")


class _ConvReLUBF16(torch.autograd.Function):
    """``relu(conv2d(x, weight, bias, stride))`` in bfloat16 on the CPU, the ReLU applied by oneDNN inside the
    convolution (``mkldnn._convolution_pointwise``), not as a pass of its own over the output: ``(B, C, H, W)``
    channels-last bfloat16 → ``(B, O, H', W')`` channels-last bfloat16, float32 gradients for the float32
    ``weight`` and ``bias``. The backward pass is autocast's (``threshold_backward``, then oneDNN's
    ``convolution_backward``), so values and gradients are autocast's, bit for bit."""

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        x: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor,
        stride: list[int],
    ) -> torch.Tensor:
        weight_bf16 = weight.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
        y = _onednn_conv_relu(x, weight_bf16, bias.to(torch.bfloat16), stride)
        ctx.save_for_backward(x, weight_bf16, y)
        ctx.stride = stride  # type: ignore[attr-defined]
        return y

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor, None]:
        x, weight_bf16, y = ctx.saved_tensors  # type: ignore[attr-defined]
        grad = torch.ops.aten.threshold_backward(grad, y, 0)
        grad_x, grad_weight, grad_bias = torch.ops.aten.convolution_backward(
            grad, x, weight_bf16, [weight_bf16.shape[0]], ctx.stride, [0, 0], [1, 1], False, [0, 0], 1,  # type: ignore[attr-defined]
            [ctx.needs_input_grad[0], True, True],  # type: ignore[attr-defined]
        )  # fmt: skip
        return grad_x, grad_weight.float(), grad_bias.float(), None


class _PackedReLULayers:
    """An acting :class:`PixelEncoder`'s convolutions and fully connected layer in bfloat16 on the CPU, each one
    oneDNN call with its ReLU fused in, on weights packed once into oneDNN's blocked layout (made by
    :meth:`PixelEncoder.for_acting_`, from weights already in bfloat16): the same features, bit for bit, as the
    layers under autocast. An 8-frame Pong encoding took 0.91 instead of 1.26 ms here. Every convolution of
    the encoder is followed by a ReLU (the last one after the flatten, with which it commutes), and so is its
    linear layer."""

    def __init__(self, encoder: PixelEncoder) -> None:
        convs = [m for m in encoder.conv if isinstance(m, nn.Conv2d)]
        (linear,) = [m for m in encoder.out if isinstance(m, nn.Linear)]
        x = encoder.prepare(torch.zeros(1, int(np.prod(encoder.obs_shape)), dtype=torch.uint8)).to(torch.bfloat16)
        self.convs: list[tuple[torch.Tensor, torch.Tensor | None, list[int]]] = []
        with torch.no_grad():
            for conv in convs:
                weight, stride = _conv_kernel(conv)
                packed = torch.ops.mkldnn._reorder_convolution_weight(
                    weight.contiguous(memory_format=torch.channels_last), [0, 0], stride, [1, 1], 1, list(x.shape)
                )
                self.convs.append((packed, conv.bias, stride))
                x = nn.functional.conv2d(x, weight, conv.bias, stride)
            self.linear = (torch.ops.mkldnn._reorder_linear_weight(linear.weight, None), linear.bias)

    def __call__(self, blocks: torch.Tensor) -> torch.Tensor:
        """Blocks of :meth:`PixelEncoder.prepare` in bfloat16 → ``(B, 512)`` bfloat16 features."""
        x = blocks
        for weight, bias, stride in self.convs:
            x = _onednn_conv_relu(x, weight, bias, stride)
        return torch.ops.mkldnn._linear_pointwise(x.flatten(1), *self.linear, "relu", [], "")


class PixelEncoder(nn.Module):
    """The Nature-DQN convolutions: ``(B, C·84·84)`` flat frames (uint8, or float32 of uint8 values) →
    ``(B, 512)`` float32 features.

    Frames and convolution weights are kept channels-last (NHWC): oneDNN's CPU convolutions train
    about 1.6x faster in that layout than in NCHW (measured here on a batch of 256 frames). The last
    ReLU comes after the flatten, where it commutes with it: on the flattened (NCHW-ordered) features its
    backward pass is a plain contiguous one, not a channels-last output meeting an NCHW gradient (5 ms
    for 256 Pong frames in bfloat16 here, a tenth of the whole backward pass).
    With ``precision`` bfloat16 the layers compute under autocast in bfloat16 (float32 weights, gradients
    and optimizer; float32 features out, so heads and losses stay float32): PPO trained Pong at 1.64x the
    float32 agent-steps/s with one torch thread, 1.43x with two, on the AVX-512 BF16 CPU of
    ``docs/results/pong_ppo_cpu.md`` (``bench/ppo.py --pong``). Where :func:`onednn_bfloat16`, each convolution
    followed by a ReLU trains as one oneDNN call with the ReLU fused in (:class:`_ConvReLUBF16`): the same
    features and gradients, bit for bit, a Pong update in 0.96–0.98x the time here.
    """

    def __init__(self, obs_shape: Sequence[int], precision: Precision = "auto") -> None:
        super().__init__()
        self.obs_shape = tuple(obs_shape)
        self.precision = precision
        c, h, w = self.obs_shape
        first = ByteFrameConv2d(c, 32, 8, stride=4)
        self.conv = nn.Sequential(
            _conv(first),
            nn.ReLU(),
            _conv(nn.Conv2d(32, 64, 4, stride=2)),
            nn.ReLU(),
            _conv(nn.Conv2d(64, 64, 3, stride=1)),
            nn.Flatten(),
            nn.ReLU(),
        )
        with torch.no_grad():
            n = self.conv(first.blocks(torch.zeros(1, c, h, w))).shape[1]
        self.out = nn.Sequential(_init(nn.Linear(n, 512), np.sqrt(2)), nn.ReLU())
        self.conv.to(memory_format=torch.channels_last)
        self.packed: _PackedReLULayers | None = None
        """the layers packed for acting (:meth:`for_acting_`), where oneDNN computes in bfloat16"""

    @property
    def first_conv(self) -> ByteFrameConv2d:
        """The first convolution (``conv[0]``), which takes the frames' blocks."""
        first = self.conv[0]
        assert isinstance(first, ByteFrameConv2d)
        return first

    def prepare(self, obs: torch.Tensor) -> torch.Tensor:
        """``(B, C·H·W)`` flat frames → the first convolution's channels-last space-to-depth blocks
        (:meth:`ByteFrameConv2d.blocks`), of the frames' dtype. Memory-bound: a PPO update prepares its rollout
        once, then takes minibatches of byte blocks, converted as they are used (half the bytes moved)."""
        return self.first_conv.blocks(obs.view(-1, *self.obs_shape))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Features of flat frames, or of frames already through :meth:`prepare`."""
        blocks = obs if obs.dim() == 4 else self.prepare(obs)
        bfloat16 = computes_in_bfloat16(self.precision, blocks.device)
        x = blocks.to(torch.bfloat16 if bfloat16 else torch.float32)  # byte values: exact in bfloat16 too
        if self.packed is not None:
            return self.packed(x).float()
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bfloat16):
            features = self.out(self._convolve(x, fuse_relu=bfloat16 and onednn_bfloat16(x.device)))
        return features.float()

    def _convolve(self, x: torch.Tensor, fuse_relu: bool) -> torch.Tensor:
        """The convolutions and their ReLUs (``self.conv``) on blocks: ``(B, C·s², H', W')`` → ``(B, 3136)``;
        with ``fuse_relu``, each convolution followed by a ReLU as one :class:`_ConvReLUBF16`."""
        layers = list(self.conv)
        i = 0
        while i < len(layers):
            layer = layers[i]
            if (
                fuse_relu
                and isinstance(layer, nn.Conv2d)
                and i + 1 < len(layers)
                and isinstance(layers[i + 1], nn.ReLU)
            ):
                weight, stride = _conv_kernel(layer)
                x = _ConvReLUBF16.apply(x, weight, layer.bias, stride)
                i += 2
            else:
                x = layer(x)
                i += 1
        return x

    def for_acting_(self) -> None:
        """In place, for a copy that only acts: weights in the dtype the layers compute in, cast as autocast
        casts them (the first convolution's 1/255 folded in first), so the encoder gives the same features,
        bit for bit, without casting its 1.7M weights at every forward pass (a quarter of the time of acting
        on an 8-frame Pong step in bfloat16 here). Where oneDNN computes in bfloat16, the layers are then
        packed for it (:class:`_PackedReLULayers`)."""
        self.first_conv.fold_divisor_()
        device = self.first_conv.weight.device
        if computes_in_bfloat16(self.precision, device):
            self.to(torch.bfloat16)
            if onednn_bfloat16(device):
                self.packed = _PackedReLULayers(self)


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

    def for_acting(self) -> ActorCritic:
        """A copy that only acts, without gradients: the same outputs, bit for bit, its pixel encoders'
        weights already cast (see :meth:`PixelEncoder.for_acting_`). Made once per rollout."""
        copy = deepcopy(self).requires_grad_(False)
        for module in copy.modules():
            if isinstance(module, PixelEncoder):
                module.for_acting_()
        return copy

    def policy_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by the policy optimizer (a shared encoder, the policy net, gaussian log-stds)."""
        return [*self.encoder.parameters(), *self.policy.parameters(), self.log_std]
