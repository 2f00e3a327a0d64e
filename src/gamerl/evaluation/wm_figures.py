"""World Models figures: reconstruction grids, latent interpolation strips, prediction strips, dream GIFs."""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from PIL import Image


def image_rows(rows: list[np.ndarray], gap: int = 2) -> np.ndarray:
    """Stack rows of frames into one image; each row ``(N, R, R, 3)`` uint8
    → ``(rows·(R+gap), N·(R+gap), 3)``."""
    n = max(len(r) for r in rows)
    side = rows[0].shape[1]
    cell = side + gap
    canvas = np.full((len(rows) * cell, n * cell, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, frame in enumerate(row):
            canvas[i * cell : i * cell + side, j * cell : j * cell + side] = frame
    return canvas


def save_png(image: np.ndarray, out: Path, scale: int = 2) -> Path:
    """Write ``image`` ``(H, W, 3)`` uint8 as a PNG, enlarged ``scale`` times with nearest pixels."""
    out.parent.mkdir(parents=True, exist_ok=True)
    pil = Image.fromarray(image)
    pil.resize((pil.width * scale, pil.height * scale), Image.NEAREST).save(out)
    return out


def reconstruction_grid(true: np.ndarray, recon: np.ndarray, out: Path) -> Path:
    """True frames above their reconstructions; both ``(N, R, R, 3)`` uint8."""
    return save_png(image_rows([true, recon]), out)


def prediction_strip(true: np.ndarray, recon: np.ndarray, predicted: np.ndarray, out: Path) -> Path:
    """Three rows (the seed's ``sample_lstm.png``): true frames, V's reconstructions, M's open-loop
    predictions
    decoded; each ``(T, R, R, 3)`` uint8."""
    return save_png(image_rows([true, recon, predicted]), out)


def save_gif(frames: np.ndarray, out: Path, fps: int = 15, scale: int = 2) -> Path:
    """Frames ``(T, R, R, 3)`` uint8 → an animated GIF, enlarged ``scale`` times."""
    out.parent.mkdir(parents=True, exist_ok=True)
    big = frames.repeat(scale, axis=1).repeat(scale, axis=2)
    imageio.mimsave(out, list(big), duration=1000 / fps, loop=0)
    return out


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Decoder output ``(N, 3, R, R)`` float in [0, 1] → ``(N, R, R, 3)`` uint8."""
    return (np.clip(images, 0, 1).transpose(0, 2, 3, 1) * 255).round().astype(np.uint8)
