"""VizDoom ``take_cover``, the paper's Doom game: dodge fireballs; the score is the tics survived."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym

from gamerl.errors import ConfigError, DependencyError

TAKE_COVER_MAX_TICS = 2100
"""the paper caps an episode at 2,100 tics (VizdoomTakeCover-v1 itself has no cap)"""

ENGINE_DIR = "_vizdoom"
"""the folder the Doom engine keeps in its working directory (and ``_vizdoom.ini`` beside it)"""


def make_take_cover(frame_skip: int = 1, render_mode: str | None = None) -> gym.Env[Any, Any]:
    """``VizdoomTakeCover-v1``: observations ``(240, 320, 3)`` uint8 RGB, actions ``Discrete(3)``.

    Actions are NOOP, MOVE_LEFT, MOVE_RIGHT; the reward is +1 per tic alive (``frame_skip`` per step).
    Episodes are truncated after ``TAKE_COVER_MAX_TICS`` tics, as in the paper.
    """
    try:
        from vizdoom import gymnasium_wrapper  # noqa: F401  (registers the Vizdoom* ids)
    except ImportError:
        raise DependencyError("take_cover needs vizdoom: pip install 'gamerl[worldmodels]' (or vizdoom)") from None
    # The engine makes ./_vizdoom/ on its first episode by stat, then mkdir, and dies when mkdir fails: two
    # engines starting at once in a new folder (collector or controller workers) could both see it missing.
    try:
        Path(ENGINE_DIR).mkdir(exist_ok=True)
    except OSError as err:
        raise ConfigError(
            f"the Doom engine keeps its files in ./{ENGINE_DIR}/, which cannot be made in {Path.cwd()} "
            f"({err.strerror}): run gamerl from a folder you can write, with no file named {ENGINE_DIR}"
        ) from None
    env = gym.make("VizdoomTakeCover-v1", frame_skip=frame_skip, render_mode=render_mode)
    env = gym.wrappers.TransformObservation(env, lambda obs: obs["screen"], env.observation_space["screen"])
    return gym.wrappers.TimeLimit(env, max(1, TAKE_COVER_MAX_TICS // frame_skip))
