"""Video files of play: where they go and how frames are written (GIF or mp4), shared by every system."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from gamerl.atomic import make_writable_folder
from gamerl.errors import ConfigError


def video_path(run_dir: Path, out: Path | None, max_steps: int, fps: int, seed: int) -> Path:
    """``out``, or ``RUN_DIR/videos/play.gif``, checked with the recording's options before any game starts:
    a suffix other than .gif or .mp4, ``max_steps`` or ``fps`` below 1, a negative ``seed``, or an ``out``
    whose folder cannot be written, is a one-line error."""
    path = Path(out) if out is not None else Path(run_dir) / "videos" / "play.gif"
    if path.suffix.lower() not in (".gif", ".mp4"):
        raise ConfigError(f"video file must end in .gif or .mp4, got '{path.name}': pass --out play.gif")
    if max_steps < 1:
        raise ConfigError(f"max_steps must be >= 1, got {max_steps}: pass --max-steps 150")
    if fps < 1:
        raise ConfigError(f"fps must be >= 1, got {fps}: pass --fps 10")
    if seed < 0:
        raise ConfigError(f"seed must be >= 0, got {seed}: pass --seed 0")
    if out is not None:  # the default lies in the run, which the caller checks next
        make_writable_folder(path.parent, "--out")
    return path


def write_video(frames: Sequence[np.ndarray], out: Path, fps: int) -> Path:
    """Write ``frames`` (each ``(H, W, 3)`` uint8) to ``out`` as a looping GIF or an H.264 mp4."""
    out.parent.mkdir(parents=True, exist_ok=True)
    video = np.stack(frames)
    if out.suffix.lower() == ".gif":
        iio.imwrite(out, video, duration=1000 / fps, loop=0)
    else:
        iio.imwrite(out, video, fps=fps, codec="libx264", macro_block_size=1)
    return out
