"""The progress bar's live text: steps/s over this sitting's steps only, and the time budget left."""

import time

import pytest

from gamerl.training.progress import TrainingProgress


def test_steps_per_second_counts_the_first_update_and_not_earlier_sittings(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 102.0, 104.0])  # the bar starts, then two updates two seconds apart
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    bar = TrainingProgress(10, "updates", enabled=False, completed=3, time_budget_s=60.0, steps=3_000)
    assert bar.describe(4_000, reward=1.5) == "reward 1.50 | 500 steps/s | time budget left 0:58"
    assert bar.describe(5_000) == " | 500 steps/s | time budget left 0:56"
