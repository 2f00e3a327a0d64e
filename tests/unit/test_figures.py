"""Learning-curve x axes: one unit per axis; PPO panels a run did not log say so."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt

from gamerl.algorithms.ppo.figures import draw_ppo_curves
from gamerl.evaluation.figures import curve_x


def test_runs_are_placed_by_episodes_when_all_records_have_them() -> None:
    runs = [[{"step": 1, "charts/episodes": 256.0}, {"step": 2, "charts/episodes": 512.0}]]
    assert curve_x(runs) == ([[256.0, 512.0]], "episodes")


def test_a_run_without_episode_counts_puts_every_run_on_logged_steps() -> None:
    with_episodes = [{"step": 1, "charts/episodes": 256.0}, {"step": 2, "charts/episodes": 512.0}]
    without = [{"step": 10}, {"step": 20}]  # e.g. a stage logged before episode counts were recorded
    x, label = curve_x([with_episodes, without])
    assert x == [[1, 2], [10, 20]] and label.startswith("logged step")


def test_a_ppo_panel_no_run_logged_says_so_instead_of_empty_axes(tmp_path: Path) -> None:
    records = [
        {"step": 8 * u, "charts/updates": u, "rollout/return": -21.0 + u, "train/entropy/a0": 1.7} for u in (1, 2)
    ]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    fig = draw_ppo_curves([tmp_path])
    win, ret, *_, entropy, _kl = fig.axes  # a Gymnasium run: no win rate
    assert not win.lines and not win.axison and "rollout/win: not logged" in win.texts[0].get_text()
    assert list(ret.lines[0].get_ydata()) == [-20.0, -19.0] and entropy.get_legend() is not None
    plt.close(fig)
