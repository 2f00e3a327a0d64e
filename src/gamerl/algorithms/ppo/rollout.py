"""A rollout: ``T`` steps of every agent row with the current policy, kept in ``(T, N, …)`` buffers.

The env's rows step in groups (:class:`~gamerl.algorithms.ppo.agent_env.AgentGroups`, e.g. Atari games
on ALE's threads) or all together (any other env, one group). With groups the rollout is pipelined: the
actor acts on one group while the others step, so the games and the network use the cores at the same
time; the actor then computes on one torch thread, leaving the other cores to the games' threads. Each
group's steps come in order and each row's actions depend only on its own observations, so a rollout is
the same whatever the timing.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from gamerl.algorithms.ppo.acting import Actor
from gamerl.algorithms.ppo.agent_env import AgentEnv, AgentGroups, EpisodeStats, Steppable, StepResult


@dataclasses.dataclass
class Rollout:
    """The buffers of one rollout of ``T`` steps of ``N`` agent rows, refilled by every rollout."""

    obs: np.ndarray
    """``(T, N, obs_dim)`` the observations acted on (float32 or uint8 frames)"""
    actions: np.ndarray
    """``(T, N, H)`` float32 head actions"""
    logp: np.ndarray
    """``(T, N)`` float32 log-probabilities of the actions"""
    values: np.ndarray
    """``(T, N)`` float32 state values of the observations"""
    rewards: np.ndarray
    """``(T, N)`` float32"""
    bootstrap: np.ndarray
    """``(T, N)`` float32, added to the reward where a time limit cut the episode (:func:`truncation_bootstrap`)"""
    dones: np.ndarray
    """``(T, N)`` float32, 1 where the row's episode ended with the step"""
    valid: np.ndarray
    """``(T, N)`` bool, False for samples left out of the update (see ``StepResult.valid``)"""

    @classmethod
    def empty(cls, steps: int, env: AgentEnv, obs_dtype: np.dtype) -> Rollout:
        """Buffers for ``steps`` steps of ``env``'s rows, observations in ``obs_dtype``."""
        n = env.num_agents
        zeros = [np.zeros((steps, n), dtype=np.float32) for _ in range(5)]
        return cls(
            np.zeros((steps, n, int(np.prod(env.obs_shape))), dtype=obs_dtype),
            np.zeros((steps, n, len(env.heads)), dtype=np.float32),
            *zeros,
            np.ones((steps, n), dtype=bool),
        )


class _SteppedWhenReceived:
    """An env stepped as one group: :meth:`send` keeps the actions, :meth:`receive` steps with them."""

    def __init__(self, env: AgentEnv) -> None:
        self.env = env
        self.actions: np.ndarray | None = None

    def send(self, actions: np.ndarray) -> None:
        self.actions = actions

    def receive(self) -> StepResult:
        assert self.actions is not None
        return self.env.step(self.actions)


def collect_rollout(
    env: AgentEnv, actor: Actor, obs: np.ndarray, rollout: Rollout, gamma: float
) -> tuple[np.ndarray, list[EpisodeStats]]:
    """Fill ``rollout`` with its ``T`` steps of every row of ``env``, starting from the ``(N, obs_dim)``
    observations ``obs``; return the observations after the last step and the episodes that ended."""
    if isinstance(env, AgentGroups):
        with _one_torch_thread():
            return _collect(env.groups, env.rows, actor, obs, rollout, gamma)
    return _collect([_SteppedWhenReceived(env)], [slice(None)], actor, obs, rollout, gamma)


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Torch on one thread inside, as many as before after. Acting on a few frames gains little from more
    threads and takes the cores the games step on: a Pong rollout with 2 torch threads on 2 cores took 0.52-0.70
    instead of 0.36 s here."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _collect(
    groups: Sequence[Steppable],
    spans: list[slice],
    actor: Actor,
    obs: np.ndarray,
    rollout: Rollout,
    gamma: float,
) -> tuple[np.ndarray, list[EpisodeStats]]:
    """:func:`collect_rollout` over ``groups`` of rows ``spans``."""
    steps = len(rollout.obs)
    episodes: list[EpisodeStats] = []
    last_obs = np.empty_like(obs)

    def act(t: int, rows: slice, group_obs: np.ndarray) -> np.ndarray:
        acting = actor.act(group_obs)
        rollout.obs[t, rows], rollout.actions[t, rows], rollout.logp[t, rows], rollout.values[t, rows] = (
            group_obs,
            *acting,
        )
        return acting.actions

    for group, rows in zip(groups, spans, strict=True):
        group.send(act(0, rows, obs[rows]))
    for t in range(steps):
        for group, rows in zip(groups, spans, strict=True):  # the other groups step meanwhile
            result = group.receive()
            rollout.rewards[t, rows], rollout.dones[t, rows] = result.rewards, result.dones
            rollout.bootstrap[t, rows] = truncation_bootstrap(actor, result, gamma)
            rollout.valid[t, rows] = True if result.valid is None else result.valid
            episodes += result.episodes
            if t + 1 < steps:
                group.send(act(t + 1, rows, result.obs))
            else:
                last_obs[rows] = result.obs
    return last_obs, episodes


def truncation_bootstrap(actor: Actor, result: StepResult, gamma: float) -> np.ndarray:
    """``(N,)``: ``gamma * V(final obs)`` for rows whose episode a time limit cut, 0 elsewhere.

    Added to those rows' last reward, so a time limit is not learnt as the end of the game (the env's
    state does not show the time left); rows the game ended get nothing after their last reward.
    """
    out = np.zeros(len(result.rewards), dtype=np.float32)
    if result.truncated is not None:
        out[result.truncated] = gamma * actor.state_value(result.final_obs)
    return out
