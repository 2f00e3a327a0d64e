"""The post's policy: 6400 → H ReLU → 1 logit of P(UP), no biases, Xavier-style init."""

from __future__ import annotations

import math

import torch
from torch import nn


class PixelPolicy(nn.Module):
    """Two-layer policy of "Pong from Pixels".

    ``forward(x)`` takes ``x`` of shape ``(B, D)`` (dense float, or a sparse COO tensor of the same
    shape) and returns the ``(B,)`` logits of P(UP). Weights are initialised as the post's
    ``randn(H, D) / sqrt(D)`` and ``randn(H) / sqrt(H)``; there are no biases.
    """

    def __init__(self, input_dim: int = 6400, hidden: int = 200) -> None:
        super().__init__()
        self.input_dim = input_dim
        self.hidden = hidden
        self.w1 = nn.Parameter(torch.randn(hidden, input_dim) / math.sqrt(input_dim))
        self.w2 = nn.Parameter(torch.randn(hidden) / math.sqrt(hidden))

    def hidden_activations(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, D)`` → ``(B, H)`` ReLU activations; a sparse ``x`` uses a sparse matmul."""
        pre = torch.sparse.mm(x, self.w1.t()) if x.is_sparse else x @ self.w1.t()
        return torch.relu(pre)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, D)`` → ``(B,)`` logits of P(UP)."""
        return self.hidden_activations(x) @ self.w2

    def num_parameters(self) -> int:
        """Number of trainable parameters (H·D + H)."""
        return sum(p.numel() for p in self.parameters())
