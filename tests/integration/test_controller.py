"""World Models part 2 end to end on a tiny real Airstriker run: train C in the dream and in the game through
the CLI, resume exactly, score and record it, and the Ray backend agrees with the local pool."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gamerl.algorithms.worldmodels.agent import RealRollouts
from gamerl.algorithms.worldmodels.control import load_params
from gamerl.cli import main
from gamerl.evolution.evaluators import LocalPoolEvaluator, RolloutTask
from gamerl.training.logger import read_metrics

pytest.importorskip("stable_retro")
pytest.importorskip("cma")


def controller_args(run: Path, *extra: str) -> list[str]:
    return ["train", "controller", str(run), "--population", "4", "--rollouts", "2", "--max-steps", "25",
            "--workers", "0", "--no-progress", *extra]  # fmt: skip


def fitness(stage: Path) -> list[float]:
    return [r["train/fitness_mean"] for r in read_metrics(stage)]


def test_dream_training_then_real_score_and_video(wm_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = controller_args(wm_run, "--mode", "dream", "--generations", "2", "--eval-every", "2", "--eval-episodes", "1")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "controller: 196 parameters (linear, inputs [z, h], buttons actions); full-covariance CMA-ES" in out
    stage = wm_run / "controller" / "dream"
    records = read_metrics(stage)
    assert [r["step"] for r in records] == [1, 2]
    assert {"train/fitness_best", "train/fitness_worst", "train/sigma"} <= set(records[0])
    assert "eval/return_mean" in records[1] and (stage / "best.npz").is_file()

    assert main(["evaluate", str(wm_run), "--episodes", "2", "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "Airstriker-Genesis-v0 controller 'dream' (best parameters):" in out and "2/2 episodes" in out
    assert f"(in {stage / 'eval' / 'results_seed0.json'})" in out
    summary = json.loads((stage / "eval" / "results_seed0.json").read_text())
    assert len(summary["returns"]) == 2 and all(s <= 25 for s in summary["steps"])
    assert main(["evaluate", str(wm_run), "--episodes", "2", "--workers", "0", "--params", "last"]) == 0
    last = json.loads((stage / "eval" / "results_last_seed0.json").read_text())
    assert last["params"] == "last" and summary["params"] == "best"
    np.testing.assert_array_equal(  # the last generation was evaluated, so the mean is the one kept
        load_params(stage, "last"), load_params(stage, "best")
    )
    contest = ["evaluate", str(wm_run), "--protocol", "retro-contest", "--timesteps-per-level", "60", "--no-progress"]
    assert main(contest) == 0
    assert main([*contest, "--baseline", "random"]) == 0
    tables = capsys.readouterr().out
    assert tables.count("Airstriker-Genesis-v0") >= 2 and "Level1" in tables
    report = json.loads((stage / "eval" / "contest_controller_seed0.json").read_text())
    assert report["levels"][0]["level"] == "Level1"
    assert (wm_run / "eval" / "contest_random_seed0.json").is_file()
    curves = wm_run / "fitness.png"
    assert main(["plot", str(stage), "--key", "train/fitness_mean", "--out", str(curves)]) == 0
    nll = wm_run / "nll.png"  # M's records have no episode count: placed by update
    assert main(["plot", str(wm_run / "mdn"), "--key", "eval/latent_nll", "--out", str(nll)]) == 0
    assert curves.stat().st_size > 0 and nll.stat().st_size > 0
    video = wm_run / "play.gif"
    assert main(["play", str(wm_run), "--controller", "dream", "--max-steps", "5", "--out", str(video)]) == 0
    assert video.stat().st_size > 0


def test_real_game_training_resumes_exactly(wm_run: Path) -> None:
    assert main(controller_args(wm_run, "--name", "whole", "--generations", "3", "--eval-every", "0")) == 0
    assert main(controller_args(wm_run, "--name", "split", "--generations", "3", "--eval-every", "0",
                                "--max-minutes", "1e-6")) == 0  # fmt: skip
    split = wm_run / "controller" / "split"
    assert len(read_metrics(split)) == 1  # stopped after one generation, with a checkpoint
    resume = ["train", "controller", str(wm_run), "--name", "split", "--resume", "--generations", "3", "--no-progress"]
    assert main([*resume, "--population", "6"]) == 2  # would go unused: refused, nothing trained
    assert len(read_metrics(split)) == 1
    assert main(resume) == 0
    whole = fitness(wm_run / "controller" / "whole")
    assert len(whole) == 3 and fitness(split) == whole
    np.testing.assert_array_equal(
        np.load(split / "best.npz")["params"], np.load(wm_run / "controller/whole/best.npz")["params"]
    )


def test_bad_input_is_one_line(wm_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "controller", str(wm_run), "--name", "nothing", "--resume"]) == 2
    assert main(controller_args(wm_run, "--population", "1")) == 2
    assert main(["evaluate", str(wm_run), "--controller", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("gamerl: error: ") for line in err)
    assert "population must be >= 2" in err[1] and "no controller 'nope'" in err[2]


@pytest.mark.slow
def test_ray_gives_the_same_fitnesses_as_the_local_pool(wm_run: Path) -> None:
    ray = pytest.importorskip("ray")
    from gamerl.evolution.ray_evaluator import RayEvaluator

    settings = RealRollouts(wm_run, "Airstriker-Genesis-v0", max_steps=20)
    rng = np.random.default_rng(0)
    tasks = [RolloutTask(c, rng.normal(size=196).astype(np.float32), s) for c in range(3) for s in (5, 6)]
    with LocalPoolEvaluator(settings, workers=2, timeout_s=120) as pool:
        local = pool.evaluate(tasks)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with RayEvaluator(settings, workers=2, timeout_s=120) as cluster:
            remote = cluster.evaluate(tasks)
    finally:
        ray.shutdown()
    assert remote == local
    assert [r.steps for r in local] == [20] * 6


def test_a_baseline_is_scored_without_any_controller(wm_run: Path, tmp_path: Path) -> None:
    # a baseline asked for the stage to pick its game: it failed on runs with no stage, or with several
    bare = shutil.copytree(wm_run, tmp_path / "air", ignore=shutil.ignore_patterns("controller"))
    contest = ["evaluate", str(bare), "--protocol", "retro-contest", "--timesteps-per-level", "60", "--no-progress"]
    assert main([*contest, "--baseline", "jerk"]) == 0
    report = json.loads((bare / "eval" / "contest_jerk_seed0.json").read_text())
    assert report["levels"][0]["game"] == "Airstriker-Genesis-v0" and report["levels"][0]["level"] == "Level1"
    for name in ("one", "two"):
        (bare / "controller" / name).mkdir(parents=True)
        shutil.copy(wm_run / "controller" / "dream" / "config.json", bare / "controller" / name)
    assert main([*contest, "--baseline", "random"]) == 0
    assert main(contest) == 2  # a controller's score still needs the stage named


def test_a_stage_that_failed_to_start_is_started_again_by_the_same_command(
    wm_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "air"
    shutil.copytree(wm_run, run)
    latents = (run / "latents.npz").read_bytes()
    (run / "latents.npz").write_bytes(b"not an npz file")
    args = controller_args(run, "--mode", "dream", "--generations", "1", "--name", "again")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "latents.npz is damaged or not ours (ValueError): run 'gamerl encode RUN_DIR' again" in err
    assert len(err.splitlines()) == 1
    (run / "latents.npz").write_bytes(latents)
    assert main(args) == 0  # not "already exists: pass --resume" for a stage that never trained
    assert [r["step"] for r in read_metrics(run / "controller" / "again")] == [1]


def test_evaluate_before_the_first_real_game_evaluation_points_to_the_last_parameters(
    wm_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped_early = ("--generations", "10", "--eval-every", "5", "--max-minutes", "1e-6")  # after generation 1
    assert main(controller_args(wm_run, "--name", "early", *stopped_early)) == 0
    capsys.readouterr()
    evaluate = ["evaluate", str(wm_run), "--controller", "early", "--episodes", "1", "--no-progress"]
    assert main(evaluate) == 2
    assert "has no best.npz yet (no real-game evaluation has run): pass --params last" in capsys.readouterr().err
    assert main([*evaluate, "--params", "last"]) == 0


@pytest.mark.parametrize(
    ("command", "flag", "value", "message"),
    [
        ("dream", "--temperature", "-1", "temperature must be > 0, got -1.0"),
        ("dream", "--steps", "0", "steps must be >= 1, got 0"),
        ("dream", "--episode", "99", "the store has 2 episodes, no episode 99: pass --episode 0"),
        ("encode", "--batch-size", "0", "batch_size must be >= 1, got 0"),
        ("evaluate", "--episodes", "0", "episodes must be >= 1, got 0"),
        ("evaluate", "--workers", "-1", "workers must be >= 0, got -1"),
    ],
)
def test_a_bad_value_is_refused_in_one_line(
    wm_run: Path, command: str, flag: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, str(wm_run), flag, value]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1
