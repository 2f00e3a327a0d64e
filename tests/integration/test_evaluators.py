"""Evaluator backends: the local pool gives in-process results, and survives workers that die or hang."""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gamerl.evolution.evaluators import (
    EvaluationError,
    InlineEvaluator,
    LocalPoolEvaluator,
    RolloutResult,
    RolloutTask,
)


@dataclasses.dataclass(frozen=True)
class ToyRollouts:
    """A worker factory whose 'rollout' scores params·seed; it can die or hang once, on seed 3."""

    delay_s: float = 0.0
    misbehave: str = ""
    """'' | 'exit' | 'hang' | 'raise'"""
    marker: str = ""
    """file created when it misbehaves, so only the first attempt does"""

    def score(self, task: RolloutTask) -> RolloutResult:
        return RolloutResult(task.candidate, task.seed, task.level, float(task.params.sum() * task.seed), 1)


class ToyWorker:
    def __init__(self, factory: ToyRollouts) -> None:
        self.factory = factory

    def __call__(self, task: RolloutTask) -> RolloutResult:
        f = self.factory
        time.sleep(f.delay_s)
        if f.misbehave and task.seed == 3 and not Path(f.marker).exists():
            Path(f.marker).touch()
            if f.misbehave == "exit":
                os._exit(1)
            if f.misbehave == "hang":
                time.sleep(3600)
            raise ValueError("bad params")
        return f.score(task)


@dataclasses.dataclass(frozen=True)
class ToyFactory:
    settings: ToyRollouts

    def __call__(self) -> ToyWorker:
        return ToyWorker(self.settings)


def tasks() -> list[RolloutTask]:
    return [RolloutTask(c, np.full(3, c, np.float32), seed) for c in range(4) for seed in (1, 2, 3)]


def expected() -> list[float]:
    return [3.0 * c * seed for c in range(4) for seed in (1, 2, 3)]


def test_pool_matches_inline_in_task_order() -> None:
    factory = ToyFactory(ToyRollouts(delay_s=0.01))
    inline_evaluator, heard = InlineEvaluator(factory), []
    inline_evaluator.on_result = heard.append
    inline = inline_evaluator.evaluate(tasks())
    with LocalPoolEvaluator(factory, workers=2, timeout_s=30) as pool:
        pool.on_result = heard.append
        pooled = pool.evaluate(tasks())
        again = pool.evaluate(tasks())  # workers are reused across generations
    assert [r.total_reward for r in inline] == expected()
    assert pooled == inline == again
    assert sorted(heard, key=repr) == sorted(inline * 3, key=repr)  # every result heard once, as it came
    assert pool.events == []


@pytest.mark.parametrize("misbehave", ["exit", "hang"])
def test_dead_or_hung_worker_is_replaced_and_its_rollout_rerun(misbehave: str, tmp_path: Path) -> None:
    factory = ToyFactory(ToyRollouts(0.01, misbehave, str(tmp_path / "marker")))
    with LocalPoolEvaluator(factory, workers=2, timeout_s=3) as pool:
        results = pool.evaluate(tasks())
    assert [r.total_reward for r in results] == expected()
    assert len(pool.events) == 1
    assert ("died" if misbehave == "exit" else "hung") in pool.events[0]
    assert "re-running candidate 0 seed 3" in pool.events[0]


def test_worker_killed_from_outside_mid_generation_is_recovered() -> None:
    factory = ToyFactory(ToyRollouts(delay_s=0.2))
    with LocalPoolEvaluator(factory, workers=2, timeout_s=30) as pool:
        victim = pool.pids()[1]
        threading.Timer(0.5, os.kill, (victim, signal.SIGKILL)).start()
        results = pool.evaluate(tasks())
        assert victim not in pool.pids()
    assert [r.total_reward for r in results] == expected()
    assert len(pool.events) == 1 and "died" in pool.events[0]


def test_a_rollout_that_raises_is_one_clear_error(tmp_path: Path) -> None:
    factory = ToyFactory(ToyRollouts(0.0, "raise", str(tmp_path / "marker")))
    with LocalPoolEvaluator(factory, workers=1, timeout_s=30) as pool:
        with pytest.raises(EvaluationError, match="a rollout failed: ValueError: bad params"):
            pool.evaluate(tasks())


def test_a_ray_cluster_that_cannot_be_reached_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    from gamerl.errors import DependencyError
    from gamerl.evolution.ray_evaluator import RayEvaluator

    # 'auto' looks for a cluster in RAY_ADDRESS, among this machine's processes and in Ray's address file:
    # none of them may answer, whatever else runs here, so the test always reaches ray.init's own error
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray._private.services, "find_gcs_addresses", functools.cache(list))  # ray clears its cache
    monkeypatch.setattr(ray._private.services, "find_bootstrap_address", lambda temp_dir: None)
    assert not ray.is_initialized()
    with pytest.raises(DependencyError, match="cannot reach a Ray cluster at --address auto") as info:
        RayEvaluator(ToyFactory(ToyRollouts()), workers=1, address="auto")
    assert "\n" not in str(info.value)
