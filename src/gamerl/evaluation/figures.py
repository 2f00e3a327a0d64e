"""Figures written into a run's ``figures/``: learning curves and first-layer weight images."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gamerl.training.logger import read_metrics  # noqa: E402

MAIN_CURVES = ("rollout/running_reward", "rollout/return", "train/fitness_mean", "train/mdn_loss", "train/vae_loss")
"""each system's main curve (Pong policy gradients, PPO, the controller, M, V): what ``gamerl plot`` draws
when no key is given, the first of these the runs have logged"""


def logged_keys(run_dirs: list[Path]) -> dict[Path, set[str]]:
    """Every metric key each run's ``metrics.jsonl`` holds (bookkeeping ``step`` and ``time`` left out)."""
    return {
        run_dir: {key for record in read_metrics(run_dir) for key in record} - {"step", "time"} for run_dir in run_dirs
    }


def sorted_keys(keys: Iterable[str]) -> list[str]:
    """Metric ``keys`` sorted, with the ``charts/`` keys (speeds, counters) last."""
    return sorted(keys, key=lambda key: (key.startswith("charts/"), key))


def main_curve(keys: list[str]) -> str | None:
    """The first of :data:`MAIN_CURVES` among the logged ``keys``, or None."""
    return next((key for key in MAIN_CURVES if key in keys), None)


def plot_learning_curve(run_dirs: Path | list[Path], out: Path, key: str = "rollout/running_reward") -> Path | None:
    """Plot ``key`` of one or more runs against episodes and against wall-clock minutes, one line per run.

    Where any record lacks ``charts/episodes`` (e.g. World Models' V and M stages) every run is placed by its
    logged step (update or generation) instead (:func:`curve_x`); records without ``charts/elapsed_s`` are
    placed in time by the logger's timestamps. Returns ``out``, or None when no run has logged ``key`` yet.
    """
    runs = [run_dirs] if isinstance(run_dirs, Path) else list(run_dirs)
    curves = [(run_dir, [r for r in read_metrics(run_dir) if r.get(key) is not None]) for run_dir in runs]
    curves = [(run_dir, records) for run_dir, records in curves if records]
    if not curves:
        return None
    x_values, first_label = curve_x([records for _, records in curves])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for (run_dir, records), x in zip(curves, x_values, strict=True):
        t0 = records[0]["time"]
        minutes = [r.get("charts/elapsed_s", r["time"] - t0) / 60 for r in records]
        values = [r[key] for r in records]
        axes[0].plot(x, values, lw=1.2, label=run_dir.name)
        axes[1].plot(minutes, values, lw=1.2, label=run_dir.name)
    for ax, label in ((axes[0], first_label), (axes[1], "wall-clock minutes")):
        ax.axhline(0, color="grey", lw=0.6, ls="--")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(key.split("/")[-1].replace("_", " "))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def curve_x(runs: list[list[dict[str, float]]]) -> tuple[list[list[float]], str]:
    """The x values of each run's records and their axis label: episodes (``charts/episodes``) when every
    record of every run has them, else the logged step for all, so one axis never mixes two units."""
    by_episode = all("charts/episodes" in r for records in runs for r in records)
    if by_episode:
        return [[r["charts/episodes"] for r in records] for records in runs], "episodes"
    return [[r["step"] for r in records] for records in runs], "logged step (updates or generations)"


def plot_weight_images(w1: np.ndarray, out: Path, side: int = 80, max_units: int = 64) -> Path:
    """Show each row of ``w1`` (``(H, side*side)``) as a ``side x side`` image, as the post's figure does."""
    units = min(len(w1), max_units)
    cols = int(np.ceil(np.sqrt(units)))
    rows = int(np.ceil(units / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.2))
    for k, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if k < units:
            image = w1[k].reshape(side, side)
            limit = float(np.abs(image).max()) or 1.0
            ax.imshow(image, cmap="gray", vmin=-limit, vmax=limit, interpolation="nearest")
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0, right=1, top=1, bottom=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
