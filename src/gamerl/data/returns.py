"""Discounted returns and standardisation, as pure NumPy functions."""

from __future__ import annotations

import numpy as np


def discounted_returns(rewards: np.ndarray, gamma: float, reset_on_reward: bool = True) -> np.ndarray:
    """Discounted sum of future rewards for one episode.

    ``rewards``: ``(T,)``. Returns ``(T,)`` with ``R_t = r_t + gamma * R_{t+1}``. With
    ``reset_on_reward`` (the post's Pong-specific choice) the running sum restarts at every non-zero
    reward, i.e. at each point scored, so an action is credited only with the point it played in.
    """
    out = np.zeros(len(rewards), dtype=np.float64)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        if reset_on_reward and rewards[t] != 0:
            running = 0.0
        running = running * gamma + float(rewards[t])
        out[t] = running
    return out


def standardize(values: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """``(values - mean) / std`` over all entries; constant input gives zeros, never NaN."""
    values = np.asarray(values, dtype=np.float64)
    centred = values - values.mean()
    std = values.std()
    return centred / std if std > eps else centred
