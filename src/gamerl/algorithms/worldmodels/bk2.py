"""Import human recordings (stable-retro ``.bk2`` movies) into a rollout store at the agent's frame skip.

A movie holds the buttons pressed on every emulator frame (60 FPS). Replaying it in the emulator gives the
frames; each block of ``frame_skip`` frames becomes one agent step: the frame seen at the block's start,
the Sonic buttons held on the block's first frame (A and C count as B, which does the same in Sonic), and
the rewards of the block summed. So a recording made at 60 FPS trains an agent that acts at 15 FPS
without the seed's frame-rate mismatch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gamerl.data.store import ShardWriter
from gamerl.envs.retro import SONIC_BUTTONS, SONIC_GAMES, _retro, check_rom
from gamerl.envs.wrappers import resize_nearest
from gamerl.errors import ConfigError

_ALIASES = {"B": ("A", "B", "C")}
"""a Sonic-set button counts as pressed when any of these pad buttons is"""


def movie_files(paths: tuple[Path, ...]) -> list[Path]:
    """``.bk2`` files named in ``paths`` (folders are searched), sorted; one-line error if none."""
    files: list[Path] = []
    for path in map(Path, paths):
        files += sorted(path.glob("*.bk2")) if path.is_dir() else [path]
    missing = [f for f in files if not f.is_file()]
    if missing or not files:
        raise ConfigError(f"no .bk2 movie at {missing[0] if missing else paths}: pass --movies FILE_OR_DIR")
    return files


def pad_to_buttons(keys: np.ndarray, pad: list[str], game: str) -> np.ndarray:
    """Pad buttons ``(n_pad,)`` bool → Sonic set ``(4,)`` float32 (A/C fold into B only in Sonic games)."""
    out = np.zeros(len(SONIC_BUTTONS), np.float32)
    for i, name in enumerate(SONIC_BUTTONS):
        sources = _ALIASES.get(name, (name,)) if game in SONIC_GAMES else (name,)
        out[i] = float(any(keys[pad.index(s)] for s in sources if s in pad))
    return out


def import_movie(path: Path, writer: ShardWriter, frame_skip: int, resolution: int) -> int:
    """Replay one movie and append it to ``writer`` as one episode; return its agent steps."""
    retro = _retro()
    try:
        movie = retro.Movie(str(path))
    except RuntimeError:  # stable-retro's "Could not load movie", which does not name the file
        raise ConfigError(f"{path} is not a readable .bk2 movie: record it again or leave it out of --movies") from None
    game = movie.get_game()
    check_rom(game)
    movie.step()
    env: Any = retro.make(
        game,
        state=retro.State.NONE,
        use_restricted_actions=retro.Actions.ALL,
        players=movie.players,
        render_mode=None,
        scenario="contest" if game in SONIC_GAMES else None,
    )
    try:
        env.initial_state = movie.get_state()
        obs, _ = env.reset()
        pad = list(env.buttons)
        frame, action, reward, frames_in_block, steps, total = obs, None, 0.0, 0, 0, 0.0
        terminated = False
        while movie.step():
            keys = np.array([movie.get_key(i, 0) for i in range(len(pad))], bool)
            if frames_in_block == 0:
                frame, action, reward = obs, pad_to_buttons(keys, pad, game), 0.0
            obs, r, terminated, truncated, _ = env.step(keys)
            reward += float(r)
            total += float(r)
            frames_in_block += 1
            if frames_in_block == frame_skip or terminated or truncated:
                writer.add(resize_nearest(frame, resolution), action, reward, bool(terminated))
                steps += 1
                frames_in_block = 0
            if terminated or truncated:
                break
        if frames_in_block:
            writer.add(resize_nearest(frame, resolution), action, reward, False)
            steps += 1
        writer.end_episode(
            {
                "game": game,
                "level": None,
                "policy": "bk2",
                "movie": str(path),
                "seed": None,
                "return": total,
                "terminated": bool(terminated),
            }
        )
    finally:
        movie.close()
        env.close()
    return steps


def import_movies(files: list[Path], writer: ShardWriter, frame_skip: int, resolution: int) -> int:
    """Import each of ``files`` as one episode; return the number imported."""
    for path in files:
        import_movie(path, writer, frame_skip, resolution)
    return len(files)
