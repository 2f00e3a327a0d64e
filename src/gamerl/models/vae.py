"""The vision model V: a convolutional β-VAE (the paper's at 64x64, the seed's at 128x128).

Encoder: 4 convolutions (32, 64, 128, 256 channels, kernel 4, stride 2) → μ, log σ². Decoder: a linear
layer to a 1x1 map, then transposed convolutions that give back exactly the input size (64: kernels
5, 5, 6, 6; 128: 5, 5, 5, 6, 6 — the seed's layer list, whose last layer returns 128 px). The first
transposed convolution, on the 1x1 map, is computed as the matrix product it is (same weights).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_Z = {64: 32, 128: 200}
"""latent size by resolution: the paper's 32 at 64 px, the seed's 200 at 128 px"""
_DECODER = {64: ((128, 5), (64, 5), (32, 6), (3, 6)), 128: ((128, 5), (64, 5), (32, 5), (16, 6), (3, 6))}
"""(out channels, kernel) of each stride-2 transposed convolution"""


def _encoder_side(resolution: int) -> int:
    side = resolution
    for _ in range(4):
        side = (side - 4) // 2 + 1
    return side


class ConvVAE(nn.Module):
    """β-VAE on ``(B, 3, R, R)`` frames in [0, 1], ``R`` = 64 or 128."""

    def __init__(self, resolution: int = 64, z_dim: int | None = None, decoder_width: int = 1024) -> None:
        super().__init__()
        if resolution not in _DECODER:
            raise ValueError(f"resolution must be 64 or 128, got {resolution}")
        self.resolution = resolution
        self.z_dim = z_dim or DEFAULT_Z[resolution]
        self.decoder_width = decoder_width
        channels = (3, 32, 64, 128, 256)
        self.encoder = nn.Sequential(
            *[m for i in range(4) for m in (nn.Conv2d(channels[i], channels[i + 1], 4, stride=2), nn.ReLU())]
        )
        flat = 256 * _encoder_side(resolution) ** 2
        self.fc_mu = nn.Linear(flat, self.z_dim)
        self.fc_logvar = nn.Linear(flat, self.z_dim)
        self.fc_decode = nn.Linear(self.z_dim, decoder_width)
        layers: list[nn.Module] = []
        in_ch = decoder_width
        for i, (out_ch, kernel) in enumerate(_DECODER[resolution]):
            layers.append(nn.ConvTranspose2d(in_ch, out_ch, kernel, stride=2))
            if i < len(_DECODER[resolution]) - 1:
                layers.append(nn.ReLU())
            in_ch = out_ch
        self.decoder = nn.Sequential(*layers)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames ``(B, 3, R, R)`` in [0, 1] → μ ``(B, Z)``, log σ² ``(B, Z)``."""
        h = self.encoder(x).flatten(1)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, Z)`` → pixel logits ``(B, 3, R, R)`` (sigmoid gives the image)."""
        first = self.decoder[0]
        assert isinstance(first, nn.ConvTranspose2d)
        return self.decoder[1:](transposed_conv_on_1x1(self.fc_decode(z), first))  # type: ignore[no-any-return]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, Z)`` → images ``(B, 3, R, R)`` in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Frames ``(B, 3, R, R)`` → (pixel logits ``(B, 3, R, R)``, μ ``(B, Z)``, log σ² ``(B, Z)``), with z
        sampled by the reparameterisation trick."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)
        return self.decode_logits(z), mu, logvar


def transposed_conv_on_1x1(x: torch.Tensor, conv: nn.ConvTranspose2d) -> torch.Tensor:
    """``conv`` applied to ``x`` ``(B, C_in)`` seen as a 1x1 map → ``(B, C_out, k, k)``, as one matrix product.

    On a 1x1 input each output pixel is a weighted sum of the input channels, so the transposed convolution is
    ``x @ W.view(C_in, C_out·k·k)`` plus the bias: on CPU about 4x faster than PyTorch's transposed-convolution
    kernels at the VAE's sizes, forward and backward. The result has the memory format of ``conv.weight``.
    """
    w, bias = conv.weight, conv.bias
    assert bias is not None and conv.padding == (0, 0) and conv.output_padding == (0, 0)
    c_in, c_out, kh, kw = w.shape
    if w.is_contiguous(memory_format=torch.channels_last):  # memory order (C_in, k, k, C_out)
        y = torch.addmm(bias.repeat(kh * kw), x, w.permute(0, 2, 3, 1).reshape(c_in, -1))
        return y.view(-1, kh, kw, c_out).permute(0, 3, 1, 2)
    y = torch.addmm(bias.repeat_interleave(kh * kw), x, w.reshape(c_in, -1))
    return y.view(-1, c_out, kh, kw)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Sample ``z = μ + σ·ε`` with ``ε ~ N(0, I)``; shapes ``(..., Z)``."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def vae_loss(
    logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """β-VAE loss, each term summed per image and averaged over the batch (the seed's normalisation).

    ``logits``, ``x``: ``(B, 3, R, R)`` (x in [0, 1]); ``mu``, ``logvar``: ``(B, Z)``. Returns
    (total = BCE + β·KL, BCE, KL), all scalars. BCE is computed from logits, which never takes log(0).
    """
    batch = x.shape[0]
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / batch
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / batch
    return bce + beta * kl, bce, kl


def frames_to_input(
    frames: torch.Tensor, channels_last: bool = False, device: torch.device | None = None
) -> torch.Tensor:
    """uint8 frames ``(B, R, R, 3)`` → float ``(B, 3, R, R)`` in [0, 1] on ``device`` (default: the frames'),
    channels-last memory if asked; frames travel to the device as uint8, a quarter of the float bytes."""
    x = frames.to(device).permute(0, 3, 1, 2).float().div_(255.0)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x.contiguous()
