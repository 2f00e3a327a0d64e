"""Single-purpose Gymnasium wrappers that Gymnasium itself does not ship."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gamerl.errors import ConfigError


class FrameSkip(gym.Wrapper[Any, Any, Any, Any]):
    """Repeat each action for ``skip`` emulator frames, sum the rewards, return the last frame.

    Gymnasium's ``MaxAndSkipObservation`` max-pools the last two frames (an Atari flicker fix); Genesis
    games do not flicker that way, so this keeps the plain last frame.
    """

    def __init__(self, env: gym.Env[Any, Any], skip: int) -> None:
        if skip < 1:
            raise ValueError(f"skip must be >= 1, got {skip}")
        super().__init__(env)
        self.skip = skip

    def frame_action(self, frame: int, action: Any) -> Any:
        """The action pressed on frame ``frame`` (0 … skip-1) of a step: ``action`` on every frame."""
        return action

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step ``skip`` frames (fewer if the episode ends), summing the rewards."""
        total = 0.0
        for i in range(self.skip):
            obs, reward, terminated, truncated, info = self.env.step(self.frame_action(i, action))
            total += float(reward)
            if terminated or truncated:
                break
        return obs, total, terminated, truncated, info


class StickyFrameSkip(FrameSkip):
    """The contest's frame skip: each action lasts ``skip`` frames, except that with probability
    ``sticky_prob`` the previous action stays on for the first of them (retro-contest's
    ``StochasticFrameSkip``). ``sticky_prob=0`` is a plain frame skip. ``reset(seed=s)`` re-seeds the
    stickiness draws, so an episode is a function of its seed."""

    def __init__(self, env: gym.Env[Any, Any], skip: int, sticky_prob: float, rng: np.random.Generator) -> None:
        self.check(skip, sticky_prob)
        super().__init__(env, skip)
        self.sticky_prob, self.rng = sticky_prob, rng
        self._current: Any = None

    @staticmethod
    def check(skip: int, sticky_prob: float) -> None:
        """Raise a one-line :class:`ConfigError` for a frame skip below 1 or a probability outside [0, 1]."""
        if skip < 1:
            raise ConfigError(f"frame_skip must be >= 1, got {skip}")
        if not 0.0 <= sticky_prob <= 1.0:
            raise ConfigError(f"sticky_prob must be in [0, 1], got {sticky_prob}")

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Forget the held action; a ``seed`` also re-seeds the stickiness draws."""
        self._current = None
        if kwargs.get("seed") is not None:
            self.rng = np.random.default_rng(kwargs["seed"])
        return self.env.reset(**kwargs)

    def frame_action(self, frame: int, action: Any) -> Any:
        """``action`` from the second frame on; on the first, the previous action with ``sticky_prob``."""
        if self._current is None or frame == 1 or (frame == 0 and self.rng.random() >= self.sticky_prob):
            self._current = action
        return self._current


class ButtonSubset(gym.ActionWrapper[Any, np.ndarray, np.ndarray]):
    """Expose only some buttons of a ``MultiBinary`` pad as an independent ``MultiBinary(len(keep))``."""

    def __init__(self, env: gym.Env[Any, Any], buttons: list[str], keep: tuple[str, ...]) -> None:
        if not isinstance(env.action_space, spaces.MultiBinary):
            raise TypeError(f"ButtonSubset needs a MultiBinary action space, got {env.action_space}")
        missing = [b for b in keep if b not in buttons]
        if missing:
            raise ValueError(f"buttons {missing} are not on this pad {buttons}")
        super().__init__(env)
        self._index = np.array([buttons.index(b) for b in keep])
        self._size = len(buttons)
        self.keep = keep
        self.action_space = spaces.MultiBinary(len(keep))

    def action(self, action: np.ndarray) -> np.ndarray:
        """(len(keep),) 0/1 → (n_buttons,) 0/1 with the dropped buttons released."""
        full = np.zeros(self._size, dtype=np.int8)
        full[self._index] = np.asarray(action, dtype=np.int8)
        return full


class Turbo(gym.Wrapper[Any, Any, np.ndarray, np.ndarray]):
    """Turbo buttons on a ``MultiBinary`` pad: a button held on consecutive steps is released on every other
    one, as a controller's turbo switch does.

    Games that act on a button's press, not on its being held (Airstriker fires once per press of B), need
    this for a policy that outputs "hold" (a thresholded controller) to act again.
    """

    def __init__(self, env: gym.Env[Any, Any], index: list[int]) -> None:
        if not isinstance(env.action_space, spaces.MultiBinary):
            raise TypeError(f"Turbo needs a MultiBinary action space, got {env.action_space}")
        super().__init__(env)
        self._index = np.asarray(index, dtype=np.int64)
        self._sent = np.zeros(len(index), dtype=np.int8)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Start with every turbo button released."""
        self._sent[:] = 0
        return self.env.reset(**kwargs)

    def step(self, action: np.ndarray) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step with each turbo button released where it was sent pressed on the previous step."""
        action = np.array(action, dtype=np.int8)
        action[self._index] &= 1 - self._sent
        self._sent = action[self._index].copy()
        return self.env.step(action)


def resize_nearest(frame: np.ndarray, size: int) -> np.ndarray:
    """``(H, W, C)`` uint8 → ``(size, size, C)`` by nearest-neighbour sampling (no blur, as the seed)."""
    h, w = frame.shape[:2]
    rows = (np.arange(size) * h) // size
    cols = (np.arange(size) * w) // size
    return np.ascontiguousarray(frame[rows[:, None], cols[None, :]])
