"""Learning-curve x axes: one unit per axis."""

from __future__ import annotations

from gamerl.evaluation.figures import curve_x


def test_runs_are_placed_by_episodes_when_all_records_have_them() -> None:
    runs = [[{"step": 1, "charts/episodes": 256.0}, {"step": 2, "charts/episodes": 512.0}]]
    assert curve_x(runs) == ([[256.0, 512.0]], "episodes")


def test_a_run_without_episode_counts_puts_every_run_on_logged_steps() -> None:
    with_episodes = [{"step": 1, "charts/episodes": 256.0}, {"step": 2, "charts/episodes": 512.0}]
    without = [{"step": 10}, {"step": 20}]  # e.g. a stage logged before episode counts were recorded
    x, label = curve_x([with_episodes, without])
    assert x == [[1, 2], [10, 20]] and label.startswith("logged step")
