"""The post's policy: 6400 → H ReLU → 1 logit of P(UP), no biases, Xavier-style init."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
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

    def acting_weights(self) -> ActingWeights:
        """A snapshot of the weights laid out for :func:`p_up_from_nonzeros` (take a new one after each update)."""
        with torch.no_grad():
            return ActingWeights(self.w1.t().contiguous().numpy(), self.w2.numpy().copy())

    def num_parameters(self) -> int:
        """Number of trainable parameters (H·D + H)."""
        return sum(p.numel() for p in self.parameters())


class ActingWeights(NamedTuple):
    """The policy's weights as NumPy arrays for acting: ``w1t`` (D, H) so a pixel's weights are one row."""

    w1t: np.ndarray
    w2: np.ndarray


def p_up_from_nonzeros(weights: ActingWeights, frames: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """P(UP) ``(N,)`` for N sparse inputs given as (indices, values) pairs; no autograd.

    The acting fast path: a difference frame has a few dozen non-zero pixels, so summing those rows of
    ``w1t`` costs far less than a dense ``(N, D) @ (D, H)`` product. Equal to ``sigmoid(forward(dense))``.
    """
    hidden = len(weights.w2)
    pre = np.stack([vals @ weights.w1t[cols] for cols, vals in frames]) if frames else np.zeros((0, hidden))
    logits = np.maximum(pre, 0.0) @ weights.w2
    return 1.0 / (1.0 + np.exp(-logits))
