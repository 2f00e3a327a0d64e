"""The interface PPO trains on: N agents stepped together, and its Gymnasium implementation.

Every agent row gets an observation, a reward and a done flag per step. A multi-agent game (Derk)
exposes its learning team's agents as rows; a Gymnasium env contributes one row per game.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import gymnasium as gym
import numpy as np

from gamerl.algorithms.ppo.heads import Head, env_values, heads_for_space
from gamerl.errors import ConfigError, EnvNotFoundError


@dataclasses.dataclass
class StepResult:
    """One step of every agent row."""

    obs: np.ndarray
    """``(N, prod(obs_shape))`` float32 observations to act on next (after an automatic reset where done)"""
    rewards: np.ndarray
    """``(N,)`` float32"""
    dones: np.ndarray
    """``(N,)`` bool: the episode of this row ended with this step"""
    episodes: list[dict[str, float]]
    """statistics of every episode (or game) that ended with this step, e.g. ``{"return": …, "length": …}``"""


class AgentEnv(Protocol):
    """N agents acting together; actions are ``(N, H)`` head actions (see :mod:`heads`)."""

    num_agents: int
    obs_shape: tuple[int, ...]
    """one observation's shape; observations travel flat, ``(N, prod(obs_shape))``"""
    heads: list[Head]

    def reset(self) -> np.ndarray:
        """Start new episodes everywhere; ``(N, prod(obs_shape))`` float32."""
        ...

    def step(self, actions: np.ndarray) -> StepResult:
        """Apply ``(N, H)`` head actions."""
        ...

    def close(self) -> None:
        """Release the env's processes and resources."""
        ...


class GymAgents:
    """``num_envs`` copies of a Gymnasium env stepped in this process, one agent row each, auto-reset."""

    def __init__(self, env_id: str, num_envs: int, seed: int, continuous: str = "binned", bins: int = 9) -> None:
        try:
            self.envs = [gym.make(env_id) for _ in range(num_envs)]
        except gym.error.Error as err:
            raise EnvNotFoundError(f"cannot make '{env_id}' ({err}): pass Derk-v0 or a Gymnasium id") from None
        space = self.envs[0].observation_space
        if not isinstance(space, gym.spaces.Box):
            raise ConfigError(f"PPO needs Box observations, '{env_id}' has {space}")
        self.obs_dim = int(np.prod(space.shape))
        self.obs_shape = (self.obs_dim,)
        self.action_space = self.envs[0].action_space
        self.heads = heads_for_space(self.action_space, continuous, bins)  # type: ignore[arg-type]
        self.num_agents = num_envs
        self._seed = seed
        self._returns = np.zeros(num_envs)
        self._lengths = np.zeros(num_envs, dtype=np.int64)

    def _to_action(self, values: np.ndarray) -> object:
        if isinstance(self.action_space, gym.spaces.Discrete):
            return int(values[0])
        if isinstance(self.action_space, gym.spaces.MultiDiscrete):
            return values.astype(np.int64)
        return values.astype(self.action_space.dtype)  # type: ignore[union-attr]

    def reset(self) -> np.ndarray:
        """Reset every copy with seeds ``seed + i`` (later episodes continue each copy's RNG)."""
        self._returns[:] = 0
        self._lengths[:] = 0
        return np.stack([env.reset(seed=self._seed + i)[0].reshape(-1) for i, env in enumerate(self.envs)]).astype(
            np.float32
        )

    def step(self, actions: np.ndarray) -> StepResult:
        """Step every copy; finished copies are reset and their episode return/length reported."""
        values = env_values(actions, self.heads)
        obs = np.empty((self.num_agents, self.obs_dim), dtype=np.float32)
        rewards = np.empty(self.num_agents, dtype=np.float32)
        dones = np.zeros(self.num_agents, dtype=bool)
        episodes = []
        for i, env in enumerate(self.envs):
            o, r, terminated, truncated, _ = env.step(self._to_action(values[i]))
            self._returns[i] += r
            self._lengths[i] += 1
            if terminated or truncated:
                episodes.append({"return": float(self._returns[i]), "length": float(self._lengths[i])})
                self._returns[i], self._lengths[i] = 0.0, 0
                o, _ = env.reset()
                dones[i] = True
            obs[i], rewards[i] = np.asarray(o).reshape(-1), r
        return StepResult(obs, rewards, dones, episodes)

    def close(self) -> None:
        """Close every copy."""
        for env in self.envs:
            env.close()


class AtariAgents:
    """``ale_py.AtariVectorEnv``: N Atari games stepped by ALE's own threads, one agent row each.

    Frames are preprocessed by ALE as in the DQN papers: 84x84 grayscale, max-pooled, 4 stacked,
    frame skip 4, up to 30 no-ops at reset; rewards clipped to [-1, 1]. Episode statistics report
    the unclipped game score (``return``) and the length in agent steps.
    """

    def __init__(self, env_id: str, num_envs: int, seed: int, num_threads: int = 0) -> None:
        import ale_py
        from gymnasium.vector import AutoresetMode

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
        """Reset every game (seeded); flat float32 frames."""
        self._returns[:] = 0
        self._lengths[:] = 0
        obs, _ = self.env.reset(seed=self._seed)
        return obs.reshape(self.num_agents, -1).astype(np.float32)

    def step(self, actions: np.ndarray) -> StepResult:
        """Step every game; finished ones restart at once (their first frames are returned)."""
        obs, rewards, terminated, truncated, _ = self.env.step(actions[:, 0].astype(np.int64))
        dones = terminated | truncated
        self._returns += rewards
        self._lengths += 1
        episodes = [
            {"return": float(self._returns[i]), "length": float(self._lengths[i])} for i in np.flatnonzero(dones)
        ]
        self._returns[dones], self._lengths[dones] = 0.0, 0
        return StepResult(
            obs.reshape(self.num_agents, -1).astype(np.float32),
            np.clip(rewards, -1, 1).astype(np.float32),
            dones,
            episodes,
        )

    def close(self) -> None:
        """Stop ALE's threads."""
        self.env.close()
