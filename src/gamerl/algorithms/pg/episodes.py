"""Episode storage for pixel policies: sparse difference frames, actions and rewards per game.

Difference frames are mostly zeros (a few dozen of 6,400 pixels change per step), so each step keeps
only the indices and signs of its non-zero pixels. A batch becomes one sparse ``(T, 6400)`` tensor, and
the policy's first layer costs O(non-zeros) instead of O(T · 6400).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

SparseFrame = tuple[np.ndarray, np.ndarray]
"""one difference frame as (pixel indices, values at them): (nnz,) int64 and (nnz,) int8"""


def split_nonzeros(frames: np.ndarray) -> list[SparseFrame]:
    """``(N, D)`` int8 difference frames → one :data:`SparseFrame` per row (copies: the input may be reused)."""
    out = []
    for frame in frames:
        cols = np.flatnonzero(frame)
        out.append((cols, frame[cols]))
    return out


@dataclasses.dataclass
class Episode:
    """One finished game: ``T`` steps of sparse frames, binary actions and rewards."""

    cols: np.ndarray
    """(nnz,) int16 pixel indices of every step's non-zero pixels, step after step"""
    vals: np.ndarray
    """(nnz,) int8 values (-1 or 1) at those pixels"""
    counts: np.ndarray
    """(T,) int32 number of non-zero pixels of each step"""
    actions: np.ndarray
    """(T,) uint8 sampled actions (1 = UP)"""
    rewards: np.ndarray
    """(T,) float32 rewards"""

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def total_reward(self) -> float:
        """Sum of rewards (the game score difference in Pong)."""
        return float(self.rewards.sum())


class EpisodeBuffer:
    """Accumulates the steps of one in-progress game."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget every stored step."""
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.actions: list[int] = []
        self.rewards: list[float] = []

    def append(self, frame: SparseFrame, action: int, reward: float) -> None:
        """Store one step: ``frame`` is the sparse difference frame the action was chosen from."""
        cols, vals = frame
        self.cols.append(cols.astype(np.int16))
        self.vals.append(vals)
        self.actions.append(action)
        self.rewards.append(reward)

    def peek(self) -> Episode:
        """The steps so far as an :class:`Episode`, leaving the buffer as it is."""
        return Episode(
            cols=np.concatenate(self.cols) if self.cols else np.zeros(0, np.int16),
            vals=np.concatenate(self.vals) if self.vals else np.zeros(0, np.int8),
            counts=np.array([len(c) for c in self.cols], dtype=np.int32),
            actions=np.array(self.actions, dtype=np.uint8),
            rewards=np.array(self.rewards, dtype=np.float32),
        )

    def finish(self) -> Episode:
        """Return the finished :class:`Episode` and empty the buffer."""
        episode = self.peek()
        self.clear()
        return episode

    def state(self) -> dict[str, Any]:
        """Picklable contents (for checkpoints)."""
        return dataclasses.asdict(self.peek())

    def load(self, state: dict[str, Any]) -> None:
        """Replace the contents with a :meth:`state` snapshot."""
        self.clear()
        offsets = np.concatenate([[0], np.cumsum(state["counts"])])
        for t in range(len(state["actions"])):
            self.cols.append(state["cols"][offsets[t] : offsets[t + 1]])
            self.vals.append(state["vals"][offsets[t] : offsets[t + 1]])
            self.actions.append(int(state["actions"][t]))
            self.rewards.append(float(state["rewards"][t]))


def sparse_frames(episodes: list[Episode], input_dim: int = 6400) -> torch.Tensor:
    """Stack the frames of ``episodes`` into one sparse COO float tensor of shape ``(sum T, input_dim)``."""
    counts = np.concatenate([e.counts for e in episodes])
    rows = np.repeat(np.arange(len(counts)), counts)
    cols = np.concatenate([e.cols for e in episodes]).astype(np.int64)
    vals = np.concatenate([e.vals for e in episodes]).astype(np.float32)
    indices = torch.from_numpy(np.stack([rows, cols]))
    return torch.sparse_coo_tensor(
        indices, torch.from_numpy(vals), (len(counts), input_dim), is_coalesced=True, check_invariants=False
    )
