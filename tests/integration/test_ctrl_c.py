"""Sittings of a real run: Ctrl-C in a terminal (SIGINT to the whole process group) keeps every finished
update, and a second sitting of a run still training is refused before it writes anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gamerl.cli import main
from gamerl.training.checkpoints import load_checkpoint


def _start(argv: list[str]) -> subprocess.Popen[str]:
    """Start ``gamerl ARGV`` in a process group of its own, as a terminal runs a command."""
    return subprocess.Popen(
        [sys.executable, "-m", "gamerl.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_until(ready: Callable[[], bool], child: subprocess.Popen[str]) -> None:
    """Wait (at most 3 minutes) until ``ready()``, while ``child`` runs."""
    deadline = time.monotonic() + 180
    while not ready():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "not ready in time"
        time.sleep(0.05)


def _records(metrics: Path) -> int:
    return len(metrics.read_text().splitlines()) if metrics.exists() else 0


def _start_until(argv: list[str], metrics: Path, lines: int) -> subprocess.Popen[str]:
    """Start ``gamerl ARGV``; return once ``metrics`` has ``lines`` records."""
    child = _start(argv)
    _wait_until(lambda: _records(metrics) >= lines, child)
    return child


def _ctrl_c_when(argv: list[str], metrics: Path, lines: int) -> subprocess.CompletedProcess[str]:
    """Run ``gamerl ARGV``, send SIGINT to its process group (as a terminal does) once ``metrics`` has
    ``lines`` records, and wait for it to end."""
    child = _start_until(argv, metrics, lines)
    os.killpg(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=180)
    return subprocess.CompletedProcess(argv, child.returncode, out, err)


def test_ctrl_c_saves_the_last_ppo_update_and_resume_goes_on(tmp_path: Path) -> None:
    run = tmp_path / "r"
    args = ["--preset", "cartpole", "--target-return", "None", "--updates", "100000", "--checkpoint-every", "1000"]
    argv = ["train", "ppo", *args, "--no-progress", "--runs-dir", str(tmp_path), "--run-name", "r"]
    result = _ctrl_c_when(argv, run / "metrics.jsonl", 3)
    assert result.returncode == 130, result.stderr
    assert "stopping after this update" in result.stderr
    assert result.stderr.strip().endswith("interrupted; continue with 'gamerl train ppo --resume RUN_DIR'")
    updates = load_checkpoint(run / "checkpoints" / "last.pt", "ppo")["counters"]["updates"]
    assert updates >= 3 and updates == _records(run / "metrics.jsonl")  # none lost
    resumed = subprocess.run(
        [sys.executable, "-m", "gamerl.cli", "train", "ppo", "--resume", str(run), "--updates", str(updates + 2)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(run / "checkpoints" / "last.pt", "ppo")["counters"]["updates"] == updates + 2


def test_a_second_sitting_of_a_running_run_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "r"
    args = ["--preset", "cartpole", "--target-return", "None", "--updates", "100000", "--checkpoint-every", "1"]
    args.append("--no-progress")  # a checkpoint after update 1 is written before record 2, so resume gets going
    child = _start_until(
        ["train", "ppo", *args, "--runs-dir", str(tmp_path), "--run-name", "r"], run / "metrics.jsonl", 2
    )
    try:
        assert main(["train", "ppo", "--resume", str(run), "--updates", "2", "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert f"{run} is being written by another gamerl process (pid {child.pid})" in err
        _wait_until(lambda: _records(run / "metrics.jsonl") >= 3, child)  # the first sitting's were not cut back
    finally:
        os.killpg(child.pid, signal.SIGINT)
        child.communicate(timeout=120)
    assert main(["train", "ppo", "--resume", str(run), "--updates", "1", "--no-progress"]) == 0  # lock released


def test_ctrl_c_reaches_pong_workers_and_still_saves(tmp_path: Path) -> None:
    pytest.importorskip("ale_py")
    run = tmp_path / "p"
    args = ["--num-envs", "2", "--num-workers", "1", "--batch-episodes", "1", "--frame-skip", "12"]
    argv = ["train", "pg", *args, "--episodes", "1000", "--checkpoint-every", "1000", "--no-progress"]
    result = _ctrl_c_when([*argv, "--runs-dir", str(tmp_path), "--run-name", "p"], run / "metrics.jsonl", 1)
    # the worker process ignores the signal, so the learner finishes its step and saves
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().endswith("interrupted; continue with 'gamerl train pg --resume RUN_DIR'")
    counters = load_checkpoint(run / "checkpoints" / "last.pt", "pg")["counters"]
    assert counters["updates"] == _records(run / "metrics.jsonl") >= 1


def test_ctrl_c_during_collect_keeps_the_finished_episodes(tmp_path: Path) -> None:
    pytest.importorskip("stable_retro")
    from gamerl.data.store import RolloutStore

    store = tmp_path / "s"
    argv = ["collect", "--store", str(store), "--steps", "1000000", "--max-episode-steps", "40", "--chunk-steps", "50"]
    child = _start(argv)
    _wait_until(lambda: bool(list(store.glob("shards/*/commit.json"))), child)
    os.killpg(child.pid, signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert err.strip().endswith("interrupted; the store keeps every finished episode: collect again to add more")
    opened = RolloutStore.open(store)
    episodes = opened.episodes()
    assert episodes and all(len(opened.read_episode(e)["frames"]) == e.length for e in episodes)


def test_ctrl_c_mid_epoch_saves_v_with_its_steps(tmp_path: Path) -> None:
    pytest.importorskip("stable_retro")
    store, runs = tmp_path / "s", tmp_path / "runs"
    collect = ["collect", "--store", str(store), "--steps", "200", "--max-episode-steps", "50", "--no-progress"]
    assert main(collect) == 0
    args = ["--store", str(store), "--runs-dir", str(runs), "--run-name", "v", "--batch-size", "16"]
    argv = ["train", "vae", *args, "--epochs", "100000", "--checkpoint-every", "100000", "--no-progress"]
    result = _ctrl_c_when(argv, runs / "v" / "metrics.jsonl", 2)
    assert result.returncode == 130, result.stderr
    assert "stopping after this batch" in result.stderr
    assert result.stderr.strip().endswith("interrupted; continue with 'gamerl train vae --resume RUN_DIR'")
    saved = load_checkpoint(runs / "v" / "checkpoints" / "vae.pt", "worldmodels")
    assert saved["epoch"] >= 2 and saved["step"] > 0  # the epoch cut short is redone on resume


def test_ctrl_c_with_ray_workers_keeps_every_finished_generation(wm_run: Path) -> None:
    pytest.importorskip("ray")
    stage = wm_run / "controller" / "ray"
    args = ["--population", "4", "--rollouts", "2", "--max-steps", "25", "--mode", "real", "--name", "ray"]
    argv = ["train", "controller", str(wm_run), *args, "--backend", "ray", "--workers", "2", "--no-progress"]
    result = _ctrl_c_when([*argv, "--generations", "100000"], stage / "metrics.jsonl", 2)
    assert result.returncode == 130, result.stderr
    assert "stopping after this generation" in result.stderr
    assert "warning" not in result.stdout  # no Ray actor died of the signal, so no rollout was redone
    saved = load_checkpoint(stage / "checkpoints" / "controller.pt", "worldmodels")
    assert saved["generation"] == _records(stage / "metrics.jsonl") >= 2
