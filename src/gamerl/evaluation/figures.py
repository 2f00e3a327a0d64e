"""Figures written into a run's ``figures/``: learning curves and first-layer weight images."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gamerl.training.logger import read_metrics  # noqa: E402


def plot_learning_curve(run_dirs: Path | list[Path], out: Path, key: str = "rollout/running_reward") -> Path | None:
    """Plot ``key`` of one or more runs against episodes and against wall-clock minutes, one line per run.

    Records without ``charts/episodes`` (e.g. World Models' V and M stages) are placed by their logged step
    (update or generation), and without ``charts/elapsed_s`` by the logger's timestamps. Returns ``out``, or
    None when no run has logged ``key`` yet.
    """
    runs = [run_dirs] if isinstance(run_dirs, Path) else list(run_dirs)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    plotted, by_episode = 0, True
    for run_dir in runs:
        records = [r for r in read_metrics(run_dir) if r.get(key) is not None]
        if not records:
            continue
        plotted += 1
        by_episode &= all("charts/episodes" in r for r in records)
        x = [r.get("charts/episodes", r["step"]) for r in records]
        t0 = records[0]["time"]
        minutes = [r.get("charts/elapsed_s", r["time"] - t0) / 60 for r in records]
        values = [r[key] for r in records]
        axes[0].plot(x, values, lw=1.2, label=run_dir.name)
        axes[1].plot(minutes, values, lw=1.2, label=run_dir.name)
    if not plotted:
        plt.close(fig)
        return None
    first_label = "episodes" if by_episode else "logged step (episodes, updates or generations)"
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
