"""Learning curves of PPO runs: win rate, return, losses and per-head entropies against updates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from gamerl.training.logger import read_metrics  # noqa: E402

PANELS = (
    ("rollout/win", "win rate (training games)"),
    ("rollout/return", "return per agent and game"),
    ("train/policy_loss", "policy loss"),
    ("train/value_loss", "value loss"),
    ("train/entropy/", "entropy per action head"),
    ("train/approx_kl", "approx KL"),
)


def draw_ppo_curves(run_dirs: Sequence[Path]) -> Figure:
    """One figure of the runs' metrics; several runs (e.g. training then fine-tuning) follow each other.

    A panel none of the runs logged (the win rate outside Derk) says so instead of drawing empty axes.
    """
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    offset = 0.0
    for run_dir in run_dirs:
        records = read_metrics(Path(run_dir))
        x = [offset + r["charts/updates"] for r in records]
        for ax, (key, title) in zip(axes.flat, PANELS, strict=True):
            keys = sorted({k for r in records for k in r if k.startswith(key)}) if key.endswith("/") else [key]
            for k in keys:
                points = [(xi, r[k]) for xi, r in zip(x, records, strict=True) if r.get(k) is not None]
                if points:
                    label = f"{Path(run_dir).name} {k.split('/')[-1]}" if key.endswith("/") else Path(run_dir).name
                    ax.plot(*zip(*points, strict=True), marker=".", label=label)
            ax.set_title(title)
            ax.set_xlabel("update (one rollout; Derk: one game per arena)")
        offset = x[-1] if x else offset
    for ax, (key, _) in zip(axes.flat, PANELS, strict=True):
        if ax.lines:
            ax.legend(fontsize=6)
        else:
            ax.set_axis_off()
            ax.text(0.5, 0.5, f"{key}: not logged by these runs", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return fig


def plot_ppo_curves(run_dirs: Sequence[Path], out: Path) -> Path:
    """Save :func:`draw_ppo_curves` of ``run_dirs`` as the image ``out``."""
    fig = draw_ppo_curves(run_dirs)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
