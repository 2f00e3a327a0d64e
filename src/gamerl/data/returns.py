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


def gae(
    rewards: np.ndarray,
    values: np.ndarray,
    dones: np.ndarray,
    last_values: np.ndarray,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation over a rollout of ``T`` steps of ``N`` parallel agents.

    ``rewards``, ``values``, ``dones``: ``(T, N)``; ``dones[t]`` is 1 where the episode ended with the
    step taken at ``t`` (so nothing after it is bootstrapped). ``last_values``: ``(N,)``, the value of the
    observation that follows the last step. Returns ``(advantages, returns)``, both ``(T, N)`` float32,
    with ``delta_t = r_t + gamma (1 - d_t) V_{t+1} - V_t``, ``A_t = delta_t + gamma lam (1 - d_t) A_{t+1}``
    and ``returns = A + V``.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    not_done = 1.0 - np.asarray(dones, dtype=np.float64)
    advantages = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1:], dtype=np.float64)
    next_values = np.asarray(last_values, dtype=np.float64)
    for t in range(len(rewards) - 1, -1, -1):
        delta = rewards[t] + gamma * not_done[t] * next_values - values[t]
        running = delta + gamma * lam * not_done[t] * running
        advantages[t] = running
        next_values = values[t]
    return advantages.astype(np.float32), (advantages + values).astype(np.float32)
