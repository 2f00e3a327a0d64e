"""The interface PPO trains on: N agents stepped together, its Gymnasium and Atari implementations, and
groups of rows stepped apart.

Every agent row gets an observation, a reward and a done flag per step. A multi-agent game (Derk)
exposes its learning team's agents as rows; a Gymnasium env contributes one row per game.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from gamerl.algorithms.ppo.heads import Head, env_values, heads_for_space
from gamerl.errors import ConfigError, EnvNotFoundError

EpisodeStats = dict[str, float | str]
"""statistics of one ended episode (or game): numbers are averaged into the training log; strings (a Derk
game's items and draw kind) are kept only in evaluation records"""


@dataclasses.dataclass
class StepResult:
    """One step of every agent row."""

    obs: np.ndarray
    """``(N, prod(obs_shape))`` observations to act on next (after an automatic reset where done): float32,
    or uint8 frames (a quarter of the memory through the rollout buffers and minibatches)"""
    rewards: np.ndarray
    """``(N,)`` float32"""
    dones: np.ndarray
    """``(N,)`` bool: the episode of this row ended with this step"""
    episodes: list[EpisodeStats]
    """statistics of every episode (or game) that ended with this step, e.g. ``{"return": …, "length": …}``"""
    valid: np.ndarray | None = None
    """``(N,)`` bool, False where the row's step was the env's own restart (its action had no effect and
    its sample is left out of the update); None = every row is valid"""
    truncated: np.ndarray | None = None
    """``(N,)`` bool, True where the episode was cut by a time limit rather than ended by the game: the
    trainer bootstraps that step's return from the value of the row's ``final_obs`` (Gymnasium's
    ``truncated``; Pardo et al. 2018, "Time Limits in Reinforcement Learning"); None = no row truncated"""
    final_obs: np.ndarray | None = None
    """``(K, prod(obs_shape))``, the last observation of each of the K truncated rows, in row order (``obs``'s dtype)"""


class AgentEnv(Protocol):
    """N agents acting together; actions are ``(N, H)`` head actions (see :mod:`heads`)."""

    num_agents: int
    obs_shape: tuple[int, ...]
    """one observation's shape; observations travel flat, ``(N, prod(obs_shape))``"""
    heads: list[Head]

    def reset(self) -> np.ndarray:
        """Start new episodes everywhere; ``(N, prod(obs_shape))`` observations (float32 or uint8 frames)."""
        ...

    def step(self, actions: np.ndarray) -> StepResult:
        """Apply ``(N, H)`` head actions."""
        ...

    def close(self) -> None:
        """Release the env's processes and resources."""
        ...


def _stack_final(info: dict, rows: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """The final observations of ``rows`` (a ``(N,)`` mask) from a SAME_STEP vector env's ``info["final_obs"]``,
    flat, as ``dtype``."""
    return np.stack([np.asarray(info["final_obs"][i], dtype=dtype).reshape(-1) for i in np.flatnonzero(rows)])


def _truncation(cut: np.ndarray, final_obs: Callable[[], np.ndarray]) -> dict[str, np.ndarray]:
    """``StepResult`` fields for the rows a time limit ``cut`` (none: the defaults); ``final_obs`` makes
    their final observations, called only when there are some."""
    return {"truncated": cut, "final_obs": final_obs()} if cut.any() else {}


class GymAgents:
    """``num_envs`` copies of a Gymnasium env as one Gymnasium vector env, one agent row each.

    An env with a NumPy-vectorised implementation (a ``vector_entry_point``, e.g. CartPole-v1's) steps
    all copies in one call; any other env runs its copies one after another in a ``SyncVectorEnv``.
    Vectorised envs reset a finished copy on the *next* step, ignoring that step's action (Gymnasium's
    ``NEXT_STEP`` autoreset): that step's samples are marked invalid and left out of the update.
    """

    def __init__(self, env_id: str, num_envs: int, seed: int, continuous: str = "binned", bins: int = 9) -> None:
        try:
            vectorised = gym.spec(env_id).vector_entry_point is not None
            self.env = gym.make_vec(
                env_id,
                num_envs,
                vectorization_mode="vector_entry_point" if vectorised else "sync",
                vector_kwargs={} if vectorised else {"autoreset_mode": AutoresetMode.SAME_STEP},
            )
        except gym.error.Error as err:
            raise EnvNotFoundError(f"cannot make '{env_id}' ({err}): pass Derk-v0 or a Gymnasium id") from None
        space = self.env.single_observation_space
        if not isinstance(space, gym.spaces.Box):
            raise ConfigError(f"PPO needs Box observations, '{env_id}' has {space}: pass an env id such as CartPole-v1")
        self.obs_shape = (int(np.prod(space.shape)),)
        self.action_space = self.env.single_action_space
        self.heads = heads_for_space(self.action_space, continuous, bins)  # type: ignore[arg-type]
        self.num_agents = num_envs
        self._next_step_reset = self.env.metadata.get("autoreset_mode") == AutoresetMode.NEXT_STEP
        self._seed = seed
        self._returns = np.zeros(num_envs)
        self._lengths = np.zeros(num_envs, dtype=np.int64)
        self._resetting = np.zeros(num_envs, dtype=bool)

    def _to_actions(self, values: np.ndarray) -> np.ndarray:
        if isinstance(self.action_space, gym.spaces.Discrete):
            return values[:, 0].astype(np.int64)
        if isinstance(self.action_space, gym.spaces.MultiDiscrete):
            return values.astype(np.int64)
        return values.astype(self.action_space.dtype)  # type: ignore[union-attr]

    def reset(self) -> np.ndarray:
        """Reset every copy with seeds ``seed + i`` (later episodes continue each copy's RNG)."""
        self._returns[:] = 0
        self._lengths[:] = 0
        self._resetting[:] = False
        obs, _ = self.env.reset(seed=self._seed)
        return obs.reshape(self.num_agents, -1).astype(np.float32)

    def step(self, actions: np.ndarray) -> StepResult:
        """Step every copy; finished copies restart and their episode return/length are reported."""
        obs, rewards, terminated, truncated, info = self.env.step(self._to_actions(env_values(actions, self.heads)))
        valid = ~self._resetting
        dones = (terminated | truncated) & valid
        cut = truncated & ~terminated & valid
        self._returns += rewards
        self._lengths += valid
        episodes = [
            {"return": float(self._returns[i]), "length": float(self._lengths[i])} for i in np.flatnonzero(dones)
        ]
        self._returns[dones], self._lengths[dones] = 0.0, 0
        self._resetting = dones if self._next_step_reset else self._resetting
        flat = obs.reshape(self.num_agents, -1).astype(np.float32)
        # NEXT_STEP: the returned observation is still the final one; SAME_STEP: it is in the info
        final = (lambda: flat[cut]) if self._next_step_reset else (lambda: _stack_final(info, cut))
        return StepResult(
            flat,
            np.asarray(rewards, dtype=np.float32),
            dones,
            episodes,
            None if valid.all() else valid,
            **_truncation(cut, final),
        )

    def close(self) -> None:
        """Close every copy."""
        self.env.close()


class AtariAgents:
    """``ale_py.AtariVectorEnv``: N Atari games stepped by ALE's own threads, one agent row each.

    Frames are preprocessed by ALE as in the DQN papers: 84x84 grayscale, max-pooled, 4 stacked,
    frame skip 4, up to 30 no-ops at reset; they travel as uint8; rewards clipped to [-1, 1]. Episode statistics report
    the unclipped game score (``return``) and the length in agent steps.
    """

    def __init__(self, env_id: str, num_envs: int, seed: int, num_threads: int = 0) -> None:
        import ale_py

        game = env_id.removeprefix("ALE/").split("-")[0]
        game = "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(game))
        self.env = ale_py.AtariVectorEnv(
            game,
            num_envs,
            num_threads=num_threads,
            autoreset_mode=AutoresetMode.SAME_STEP,
            reward_clipping=False,
            repeat_action_probability=0.25,
        )
        self.obs_shape = tuple(self.env.single_observation_space.shape)
        self.heads = heads_for_space(self.env.single_action_space)
        self.num_agents = num_envs
        self._seed = seed
        self._returns = np.zeros(num_envs)
        self._lengths = np.zeros(num_envs, dtype=np.int64)

    def reset(self) -> np.ndarray:
        """Reset every game (seeded); flat uint8 frames."""
        self._returns[:] = 0
        self._lengths[:] = 0
        obs, _ = self.env.reset(seed=self._seed)
        return obs.reshape(self.num_agents, -1)

    def send(self, actions: np.ndarray) -> None:
        """Start stepping every game with ``(N, 1)`` head actions, on ALE's threads; :meth:`receive` waits."""
        self.env.send(actions[:, 0].astype(np.int64))

    def receive(self) -> StepResult:
        """The step :meth:`send` started, once every game has made it; finished games restart at once (their
        first frames are returned)."""
        obs, rewards, terminated, truncated, info = self.env.recv()
        dones = terminated | truncated
        cut = truncated & ~terminated
        self._returns += rewards
        self._lengths += 1
        episodes = [
            {"return": float(self._returns[i]), "length": float(self._lengths[i])} for i in np.flatnonzero(dones)
        ]
        self._returns[dones], self._lengths[dones] = 0.0, 0
        return StepResult(
            obs.reshape(self.num_agents, -1),
            np.clip(rewards, -1, 1).astype(np.float32),
            dones,
            episodes,
            **_truncation(cut, lambda: _stack_final(info, cut, np.uint8)),
        )

    def step(self, actions: np.ndarray) -> StepResult:
        """Step every game: :meth:`send`, then :meth:`receive`."""
        self.send(actions)
        return self.receive()

    def close(self) -> None:
        """Stop ALE's threads."""
        self.env.close()


class Steppable(Protocol):
    """Rows whose step starts with :meth:`send` and ends with :meth:`receive`."""

    def send(self, actions: np.ndarray) -> None:
        """Start a step with ``(N, H)`` head actions."""
        ...

    def receive(self) -> StepResult:
        """Wait for the step :meth:`send` started."""
        ...


class SteppedApart(AgentEnv, Steppable, Protocol):
    """An :class:`AgentEnv` whose step starts and ends apart, running on threads of its own in between."""


class AgentGroups:
    """The agent rows of several envs (groups) as one :class:`AgentEnv`, in group order.

    :meth:`step` steps all groups at once. A rollout can instead act on one group while the others step
    (:func:`~gamerl.algorithms.ppo.rollout.collect_rollout`), so that the games and the network use the
    cores at the same time.
    """

    def __init__(self, groups: Sequence[SteppedApart]) -> None:
        self.groups = list(groups)
        self.num_agents = sum(g.num_agents for g in self.groups)
        self.obs_shape = self.groups[0].obs_shape
        self.heads = self.groups[0].heads
        bounds = np.cumsum([0, *(g.num_agents for g in self.groups)])
        self.rows = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        """each group's rows"""

    def reset(self) -> np.ndarray:
        """Reset every group; their observations stacked."""
        return np.concatenate([g.reset() for g in self.groups])

    def step(self, actions: np.ndarray) -> StepResult:
        """Step every group at once; their results joined."""
        for group, rows in zip(self.groups, self.rows, strict=True):
            group.send(actions[rows])
        return join_results([group.receive() for group in self.groups])

    def close(self) -> None:
        """Close every group."""
        for group in self.groups:
            group.close()


def join_results(results: Sequence[StepResult]) -> StepResult:
    """One :class:`StepResult` of several groups' rows, in group order."""

    def rows(field: str, default: bool) -> np.ndarray | None:
        parts = [getattr(r, field) for r in results]
        if all(part is None for part in parts):
            return None
        return np.concatenate(
            [np.full(len(r.rewards), default) if p is None else p for r, p in zip(results, parts, strict=True)]
        )

    finals = [r.final_obs for r in results if r.final_obs is not None]
    return StepResult(
        np.concatenate([r.obs for r in results]),
        np.concatenate([r.rewards for r in results]),
        np.concatenate([r.dones for r in results]),
        [episode for r in results for episode in r.episodes],
        valid=rows("valid", True),
        truncated=rows("truncated", False),
        final_obs=np.concatenate(finals) if finals else None,
    )


def atari_agents(env_id: str, num_envs: int, seed: int) -> AtariAgents | AgentGroups:
    """``num_envs`` ALE games for PPO. Two or more come as two :class:`AgentGroups` of half the games each
    (the same games as one :class:`AtariAgents`: seeds go on from group to group), each stepped by as
    many ALE threads as there are cores but the learner's, so a rollout acts on one half while the other
    steps: a Pong rollout step of 8 games took 2.6 instead of 3.5 ms on 2 cores here. The ALE threads run
    off one core (:func:`_threads_off_one_core`), left to the learner."""
    if num_envs < 2:
        return AtariAgents(env_id, num_envs, seed)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = max(1, cores - 1)
    half = num_envs // 2
    with _threads_off_one_core():
        groups = [AtariAgents(env_id, half, seed, threads), AtariAgents(env_id, num_envs - half, seed + half, threads)]
    return AgentGroups(groups)


@contextlib.contextmanager
def _threads_off_one_core() -> Iterator[None]:
    """Threads started inside (ALE's, when an ``AtariVectorEnv`` is made) may run on every core this thread
    may run on but one, which the learner's thread then has to itself: otherwise the games' threads and the
    learner's take turns on the same cores while a rollout acts on one group as the other steps. A Pong
    rollout (8 games x 128 steps, 2 cores) took a median 0.330 instead of 0.385 s here. This thread's own
    cores are as before after; nothing changes on one core, or where affinities cannot be set."""
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else set()
    moved = False
    if len(cores) >= 2:
        with contextlib.suppress(OSError):  # a sandbox may forbid it: the games' threads then run anywhere
            os.sched_setaffinity(0, cores - {min(cores)})  # new threads inherit their creator's cores
            moved = True
    try:
        yield
    finally:
        if moved:
            os.sched_setaffinity(0, cores)
