"""Score and watch a trained World Models controller in the real game.

``gamerl evaluate RUN_DIR --controller NAME``: the controller's ``best.npz`` (or, ``--params last``, the
last CMA-ES distribution mean) over N episodes (seeds never used in training), mean ± std, per-episode JSON
in the stage's ``eval/``; ``--protocol retro-contest``: the Retro Contest's per-level scores instead.
``gamerl play RUN_DIR``: a GIF or mp4 of one episode.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from gamerl.algorithms.worldmodels.agent import WorldModelAgent, run_game
from gamerl.algorithms.worldmodels.collect import make_env, resolve_levels
from gamerl.algorithms.worldmodels.control import ControllerStage, load_params, make_evaluator
from gamerl.config.worldmodels import KeptParams
from gamerl.envs.retro import SONIC_GAMES, contest_levels, game_levels
from gamerl.errors import ConfigError
from gamerl.evaluation.results import save_result, weights_digest
from gamerl.evaluation.retro_contest import ContestReport, baseline_policy, evaluate_contest
from gamerl.evaluation.videofile import video_path, write_video
from gamerl.evolution.evaluators import RolloutResult, RolloutTask
from gamerl.training.progress import TrainingProgress

EVAL_SEED_BASE = 2**30
"""evaluation seeds start here, far from the seeds training draws"""


def evaluate_controller(
    run_dir: Path,
    name: str | None = None,
    episodes: int = 100,
    workers: int = 2,
    seed: int = 0,
    which: KeptParams = "best",
    progress: bool = True,
) -> dict[str, Any]:
    """Play ``episodes`` real episodes with the stage's ``which`` parameters; write the summary and return it
    with ``results_file``, the file written (``eval/results[_last]_seed<seed>.json``, or ``…_2.json`` and on
    when that file holds an evaluation of other parameters: see :func:`~gamerl.evaluation.results.save_result`).

    ``progress`` shows a bar of the episodes played."""
    if episodes < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}: pass --episodes 100")
    if workers < 0:
        raise ConfigError(f"workers must be >= 0, got {workers}: pass --workers 2 (0: play in this process)")
    stage = ControllerStage.read(run_dir, name)
    params = load_params(stage.out, which)
    tasks = [RolloutTask(0, params, EVAL_SEED_BASE + seed + i) for i in range(episodes)]
    local = dataclasses.replace(stage.config, workers=workers, backend="local")
    bar = TrainingProgress(episodes, "episodes", progress, label="evaluate")
    with make_evaluator(stage.rollouts(early_stop=False), local) as evaluator, bar:
        played: list[int] = []

        def show(result: RolloutResult) -> None:
            played.append(result.steps)
            bar.update(len(played), sum(played))

        evaluator.on_result = show
        results = evaluator.evaluate(tasks)
    returns = np.array([r.total_reward for r in results])
    summary = {
        "env_id": stage.env_id,
        "controller": stage.out.name,
        "params": which,
        "episodes": episodes,
        "return_mean": float(returns.mean()),
        "return_std": float(returns.std()),
        "returns": returns.tolist(),
        "steps": [r.steps for r in results],
        "seeds": [r.seed for r in results],
    }
    settings = {"weights": weights_digest([params]), "params": which, "episodes": episodes, "seed": seed}
    path = save_result(stage.out / "eval" / f"results{_suffix(which)}_seed{seed}.json", summary, settings)
    return {**summary, "results_file": str(path)}


def _suffix(which: KeptParams) -> str:
    """File-name infix of results for ``which`` parameters (none for the default, ``best``)."""
    return "" if which == "best" else f"_{which}"


def record_controller(
    run_dir: Path,
    name: str | None,
    out: Path | None,
    max_steps: int,
    seed: int = 0,
    fps: int = 15,
    which: KeptParams = "best",
) -> Path:
    """Record one real episode of the stage's ``which`` controller as a GIF or mp4; returns the file."""
    stage = ControllerStage.read(run_dir, name)
    path = video_path(stage.out, out, max_steps, fps, seed)
    agent = stage.agent(load_params(stage.out, which))
    env = make_env(stage.env_id, stage.model.frame_skip)
    obs, _ = env.reset(seed=EVAL_SEED_BASE + seed)
    frames = [obs]
    for _ in range(max_steps):
        obs, _, terminated, truncated, _ = env.step(agent.act(obs))
        frames.append(obs)
        if terminated or truncated:
            break
    env.close()
    return write_video(frames, path, fps)


def contest_levels_for(env_id: str, levels: tuple[str, ...]) -> list[tuple[str, str]]:
    """(game, level) pairs: ``contest-validation`` / ``contest-train`` (all three Sonic games), named levels of
    ``env_id``, or by default the validation levels for a Sonic game and every level of any other game."""
    if levels in (("contest-validation",), ("contest-train",)):
        return contest_levels(levels[0].removeprefix("contest-"))
    if not levels:
        if env_id in SONIC_GAMES:
            return contest_levels("validation")
        return [(env_id, level) for level in game_levels(env_id)]
    return [(env_id, level) for level in resolve_levels(env_id, levels)]


def contest_controller(
    run_dir: Path,
    name: str | None,
    levels: tuple[str, ...] = (),
    timesteps_per_level: int = 10_000,
    seed: int = 0,
    baseline: str | None = None,
    progress: bool = True,
    which: KeptParams = "best",
) -> ContestReport:
    """The Retro Contest protocol for the stage's ``which`` controller, written to the stage's
    ``eval/contest_controller*.json``; or for a ``baseline`` (random, jerk) on the run's game, which needs no
    controller stage, written to ``RUN_DIR/eval/contest_<baseline>_seed<S>.json``."""
    if baseline is not None:
        make_policy = baseline_policy(baseline, seed)
        env_id, frame_skip = run_game(run_dir)
        out = Path(run_dir) / "eval"
    else:
        stage = ControllerStage.read(run_dir, name)
        params = load_params(stage.out, which)

        def make_policy() -> WorldModelAgent:
            return stage.agent(params)

        env_id, frame_skip, out = stage.env_id, stage.model.frame_skip, stage.out / "eval"
    report = evaluate_contest(
        make_policy, contest_levels_for(env_id, levels), timesteps_per_level, frame_skip, seed, progress
    )
    report.save(out / f"contest_{baseline or 'controller' + _suffix(which)}_seed{seed}.json")
    return report
