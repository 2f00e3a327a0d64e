"""Data-collection policies: uniform random, sticky random and JERK (the retro-baselines explorer)."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from gymnasium import spaces

from gamerl.envs.retro import SONIC_BUTTONS
from gamerl.errors import ConfigError


class CollectPolicy(Protocol):
    """Chooses env actions from nothing but its own state and the rewards it is told about."""

    def reset(self) -> None:
        """Start a new episode."""

    def act(self) -> Any:
        """The next env action."""

    def observe(self, reward: float) -> None:
        """The reward of the last action."""


class RandomPolicy:
    """Uniform random actions from the env's action space (the paper's data policy)."""

    def __init__(self, space: spaces.Space[Any], rng: np.random.Generator) -> None:
        self.space, self.rng = space, rng

    def reset(self) -> None:
        """Nothing to reset."""

    def act(self) -> Any:
        """A fresh uniform sample (``MultiBinary``: each button 50 %; ``Discrete``: one of n; ``Box``: uniform)."""
        if isinstance(self.space, spaces.Discrete):
            return int(self.rng.integers(self.space.n))
        if isinstance(self.space, spaces.MultiBinary):
            return self.rng.integers(0, 2, size=self.space.shape, dtype=np.int8)
        if isinstance(self.space, spaces.Box):
            return self.rng.uniform(self.space.low, self.space.high).astype(self.space.dtype)
        raise ConfigError(f"random collection supports Discrete, MultiBinary and Box actions, not {self.space}")

    def observe(self, reward: float) -> None:
        """Ignored."""


class StickyRandomPolicy(RandomPolicy):
    """Random actions held for a while: keep the last action with probability ``stickiness``.

    The mean hold is ``1 / (1 - stickiness)`` steps, so the agent actually travels instead of jittering.
    """

    def __init__(self, space: spaces.Space[Any], rng: np.random.Generator, stickiness: float) -> None:
        super().__init__(space, rng)
        self.stickiness = stickiness
        self._last: Any = None

    def reset(self) -> None:
        """Forget the held action."""
        self._last = None

    def act(self) -> Any:
        """The held action, or with probability ``1 - stickiness`` a new uniform one."""
        if self._last is None or self.rng.random() >= self.stickiness:
            self._last = super().act()
        return self._last


class JerkPolicy:
    """JERK from openai/retro-baselines, both halves. Explore: run right jumping now and then; when a run of
    ``right_steps`` earned nothing, back-track left for ``left_steps``. Exploit: at the start of an episode,
    with probability ``exploit_bias + steps so far / horizon``, replay the best action sequence found so far
    (the one with the highest mean return over its tries, cut where its running return peaked), then no-op
    until the episode ends; that episode's return is added to the sequence's tries. Needs the Sonic buttons.
    """

    def __init__(
        self,
        space: spaces.Space[Any],
        rng: np.random.Generator,
        horizon: int = 1_000_000,
        right_steps: int = 100,
        left_steps: int = 70,
        jump_prob: float = 0.1,
        jump_repeat: int = 4,
        exploit_bias: float = 0.25,
    ) -> None:
        if not isinstance(space, spaces.MultiBinary) or space.n != len(SONIC_BUTTONS):
            raise ConfigError(f"JERK needs the Sonic buttons {SONIC_BUTTONS}; this env's actions are {space}")
        self.rng = rng
        self.horizon = horizon
        self.right_steps, self.left_steps = right_steps, left_steps
        self.jump_prob, self.jump_repeat = jump_prob, jump_repeat
        self.exploit_bias = exploit_bias
        self.solutions: list[tuple[list[float], list[np.ndarray]]] = []
        """(returns of each try, action sequence) of every finished exploring episode"""
        self._total_steps = 0
        self._actions: list[np.ndarray] = []
        self._running: list[float] = []
        self._replaying: int | None = None
        self._start_exploring()

    def reset(self) -> None:
        """Score the episode that ended, then explore, or replay the best sequence (growing probability)."""
        if self._actions:
            if self._replaying is None:
                peak = int(np.argmax(self._running))
                self.solutions.append(([self._running[peak]], self._actions[: peak + 1]))
            else:
                self.solutions[self._replaying][0].append(self._running[-1])
        self._actions, self._running = [], []
        p_exploit = self.exploit_bias + self._total_steps / self.horizon
        if self.solutions and self.rng.random() < p_exploit:
            self._replaying = max(range(len(self.solutions)), key=lambda i: np.mean(self.solutions[i][0]))
        else:
            self._start_exploring()

    def _start_exploring(self) -> None:
        self._replaying = None
        self._left = False
        self._steps_left = self.right_steps
        self._run_reward = 0.0
        self._jumping = 0

    def act(self) -> np.ndarray:
        """The replayed sequence's next action (no-op past its end), or LEFT/RIGHT by phase plus B in a jump."""
        if self._replaying is not None:
            sequence = self.solutions[self._replaying][1]
            t = len(self._actions)
            action = sequence[t] if t < len(sequence) else np.zeros(len(SONIC_BUTTONS), np.int8)
        else:
            action = self._explore()
        self._actions.append(action)
        return action

    def _explore(self) -> np.ndarray:
        if self._steps_left == 0:
            back_track = not self._left and self._run_reward <= 0
            self._left = back_track
            self._steps_left = self.left_steps if back_track else self.right_steps
            self._run_reward = 0.0
        self._steps_left -= 1
        action = np.zeros(len(SONIC_BUTTONS), np.int8)
        action[SONIC_BUTTONS.index("LEFT" if self._left else "RIGHT")] = 1
        if self._jumping > 0:
            self._jumping -= 1
            action[SONIC_BUTTONS.index("B")] = 1
        elif self.rng.random() < self.jump_prob:
            self._jumping = self.jump_repeat - 1
            action[SONIC_BUTTONS.index("B")] = 1
        return action

    def observe(self, reward: float) -> None:
        """Add to the running return of the episode and of the current run."""
        self._total_steps += 1
        self._running.append((self._running[-1] if self._running else 0.0) + reward)
        self._run_reward += reward


def action_dim(space: spaces.Space[Any]) -> int:
    """Length of the stored action vector for ``space`` (button bits, Box values, a one-hot for ``Discrete``)."""
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, (spaces.MultiBinary, spaces.Box)):
        return int(np.prod(space.shape))
    raise ConfigError(f"World Models supports Discrete, MultiBinary and Box actions, not {space}")


def encode_action(space: spaces.Space[Any], action: Any) -> np.ndarray:
    """Env action → stored float32 vector ``(action_dim(space),)``."""
    if isinstance(space, spaces.Discrete):
        out = np.zeros(int(space.n), np.float32)
        out[int(action)] = 1.0
        return out
    return np.asarray(action, np.float32).reshape(-1)
