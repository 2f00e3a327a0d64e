"""Gymnasium ``CarRacing-v3``, the paper's first game: 96x96 RGB frames, continuous steer/gas/brake."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from gamerl.envs.wrappers import FrameSkip
from gamerl.errors import DependencyError


def make_car_racing(frame_skip: int = 1, render_mode: str | None = None) -> gym.Env[Any, Any]:
    """``CarRacing-v3``: observations ``(96, 96, 3)`` uint8, actions ``Box([-1, 0, 0], [1, 1, 1])``."""
    try:
        import Box2D  # noqa: F401
    except ImportError:
        raise DependencyError("CarRacing needs Box2D: pip install 'gamerl[worldmodels]' (or box2d)") from None
    return FrameSkip(gym.make("CarRacing-v3", render_mode=render_mode), frame_skip)
