"""``gamerl train controller RUN_DIR``: evolve C with CMA-ES, in the real game or inside M's dream.

Each generation: ask CMA-ES for a population, play ``rollouts`` episodes per candidate (the same seeds and
levels for every candidate of a generation, so they are compared on equal terms), tell it the mean returns,
log mean/best/worst, checkpoint. Every ``eval_every`` generations the distribution mean is scored in the
real game (on the held-out levels when given); the best scoring parameters are kept in ``best.npz``.

The stage lives in ``RUN_DIR/controller/<name>/`` (``name`` defaults to the mode): ``config.json``,
``metrics.jsonl`` + ``tb/``, ``checkpoints/controller.pt``, ``best.npz``.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from gamerl.algorithms.worldmodels.agent import (
    DreamEvaluator,
    RealRollouts,
    WorldModel,
    WorldModelAgent,
    controller_spec,
    load_world_model,
)
from gamerl.algorithms.worldmodels.collect import make_env, resolve_levels
from gamerl.algorithms.worldmodels.dream_env import BatchedDream
from gamerl.algorithms.worldmodels.stages import LATENTS, SYSTEM
from gamerl.atomic import atomic_write, read_npz, write_json_atomic
from gamerl.config.base import config_to_dict, read_config_file, resume_config
from gamerl.config.worldmodels import ControllerConfig, KeptParams
from gamerl.data.datasets import Latents
from gamerl.errors import RunDirError
from gamerl.evolution.cmaes import Evolution
from gamerl.evolution.evaluators import Evaluator, InlineEvaluator, LocalPoolEvaluator, RolloutResult, RolloutTask
from gamerl.models.controller import ControllerSpec
from gamerl.training.checkpoints import load_checkpoint, save_checkpoint
from gamerl.training.logger import MetricLogger
from gamerl.training.progress import TrainingProgress
from gamerl.training.sitting import Sitting

CONTROLLER_DIR = "controller"
CHECKPOINT = "checkpoints/controller.pt"
BEST = "best.npz"


def make_evaluator(settings: RealRollouts, config: ControllerConfig) -> Evaluator:
    """Real-game rollouts on the backend ``config`` names."""
    if config.backend == "ray":
        from gamerl.evolution.ray_evaluator import RayEvaluator

        return RayEvaluator(settings, config.workers, config.task_timeout_s, config.address)
    if config.workers == 0:
        return InlineEvaluator(settings)
    return LocalPoolEvaluator(settings, config.workers, config.task_timeout_s)


def make_dream(model: WorldModel, run_dir: Path, config: ControllerConfig, max_steps: int) -> BatchedDream:
    """M's dream, started from the latents of the stored episodes' first frames."""
    latents = Latents.load(run_dir / LATENTS)
    return BatchedDream(
        model.cell, latents.mu[latents.starts], latents.logvar[latents.starts], config.temperature, max_steps
    )


def env_limit(env: Any) -> int:
    """The env's own episode limit in agent steps (its ``TimeLimit``), or 4,500 (the Retro Contest's)."""
    while not isinstance(env, gym.wrappers.TimeLimit):
        if not hasattr(env, "env"):
            return 4500
        env = env.env
    return int(env._max_episode_steps)


def per_level(results: Sequence[RolloutResult]) -> dict[str, float]:
    """Mean return per level (the seed regretted not recording these)."""
    by_level: dict[str, list[float]] = defaultdict(list)
    for r in results:
        if r.level is not None:
            by_level[r.level].append(r.total_reward)
    return {level: float(np.mean(v)) for level, v in by_level.items()}


def stage_dir(run_dir: Path, name: str | None, config: ControllerConfig | None) -> Path:
    """Where a controller stage lives: ``RUN_DIR/controller/NAME`` (by default NAME is the config's mode)."""
    return Path(run_dir) / CONTROLLER_DIR / (name or (config or ControllerConfig()).mode)


def stored_stage_config(out: Path) -> ControllerConfig | None:
    """The settings the stage in ``out`` was started with; None when there is no stage there."""
    return read_config_file(out / "config.json", ControllerConfig)


@dataclasses.dataclass(frozen=True)
class ControllerStage:
    """A controller stage's settings and what follows from them: the world model, the game, C's shape."""

    run_dir: Path
    out: Path
    """RUN_DIR/controller/NAME"""
    config: ControllerConfig
    model: WorldModel
    env_id: str
    max_steps: int
    spec: ControllerSpec

    @classmethod
    def open(cls, run_dir: Path, config: ControllerConfig | None, name: str | None, resume: bool) -> ControllerStage:
        """A new stage (refused if it exists) or, ``resume``, an existing one with its stored settings except
        ``ControllerConfig.resume_budget`` and ``sitting_options`` (workers, backend), taken from ``config`` when
        given so a finished stage can be extended or moved to more workers. Writes nothing."""
        run_dir = Path(run_dir)
        out = stage_dir(run_dir, name, config)
        if resume:
            stored = stored_stage_config(out)
            if stored is None:
                raise RunDirError(f"{out} has no controller stage to resume: start one without --resume")
            config = resume_config(stored, config or stored)
        elif (out / "config.json").exists():
            raise RunDirError(f"{out} already exists: pass --resume, or --name for another controller")
        assert config is not None
        model = load_world_model(run_dir)
        env_id = config.env_id or model.env_id
        env = make_env(env_id, model.frame_skip)
        spec = controller_spec(model, env.action_space, config.inputs, config.hidden_units)
        max_steps = config.max_steps or env_limit(env)
        env.close()
        return cls(run_dir, out, config, model, env_id, max_steps, spec)

    @classmethod
    def read(cls, run_dir: Path, name: str | None = None) -> ControllerStage:
        """The trained stage ``name`` of ``run_dir`` (default: the only one there is)."""
        root = Path(run_dir) / CONTROLLER_DIR
        stages = sorted(p.name for p in root.iterdir() if (p / "config.json").is_file()) if root.is_dir() else []
        if name is None:
            if len(stages) != 1:
                found = ", ".join(stages) or "none"
                raise RunDirError(f"{run_dir} has controller stages: {found}; pick one with --controller NAME")
            name = stages[0]
        if name not in stages:
            raise RunDirError(f"{run_dir} has no controller '{name}': train one with 'gamerl train controller'")
        return cls.open(run_dir, None, name, resume=True)

    def rollouts(self, early_stop: bool) -> RealRollouts:
        """The worker factory for real-game rollouts of this stage (``early_stop``: training's early stop)."""
        c = self.config
        window = c.early_stop_window if early_stop else 0
        return RealRollouts(
            self.run_dir,
            self.env_id,
            c.inputs,
            c.hidden_units,
            c.reset_every,
            self.max_steps,
            window,
            c.early_stop_threshold,
        )

    def agent(self, params: np.ndarray) -> WorldModelAgent:
        """The agent playing parameters ``params`` ``(D,)`` with this process's copy of V and M."""
        m, c = self.model, self.config
        return WorldModelAgent(m.vae, m.cell, self.spec, params, m.resolution, c.inputs, c.reset_every)


class ControllerTrainer:
    """The state of one controller stage's training; :meth:`run` trains until the budget is spent."""

    def __init__(self, stage: ControllerStage, resume: bool = False) -> None:
        """A fresh search or, ``resume``, the one in its last checkpoint."""
        self.stage, self.config, self.spec, self.out = stage, stage.config, stage.spec, stage.out
        config = stage.config
        self.levels = resolve_levels(stage.env_id, config.levels)
        self.eval_levels = resolve_levels(stage.env_id, config.eval_levels)
        self.rng = np.random.default_rng(config.seed)
        self.level_index = 0
        self.best_score = -np.inf
        self.elapsed = 0.0
        if resume:
            data = load_checkpoint(self.out / CHECKPOINT, SYSTEM)
            self.evolution = Evolution.from_state(data["evolution"])
            self.rng.bit_generator.state = data["rng"]
            self.level_index, self.best_score, self.elapsed = data["level_index"], data["best_score"], data["elapsed"]
        else:
            self.out.mkdir(parents=True, exist_ok=True)
            self.evolution = Evolution.start(
                np.zeros(self.spec.n_params),
                config.sigma0,
                config.population,
                config.seed,
                config.diagonal,
                config.rank_shaping,
            )

    def describe(self) -> str:
        """The one line printed at start: C's size and the CMA-ES variant."""
        layers = f"hidden {self.config.hidden_units} tanh" if self.config.hidden_units else "linear"
        variant = "diagonal sep-CMA" if self.evolution.diagonal else "full-covariance CMA-ES"
        why = " (above 1,000 parameters)" if self.evolution.diagonal and self.config.diagonal == "auto" else ""
        return (
            f"controller: {self.spec.n_params:,} parameters ({layers}, inputs [{', '.join(self.config.inputs)}], "
            f"{self.spec.kind} actions); {variant}{why}, population {self.config.population}, "
            f"{self.config.rollouts} rollouts each, {self.config.mode} rollouts"
        )

    def generation_tasks(self, population: np.ndarray) -> list[RolloutTask]:
        """Every candidate × rollout, sharing this generation's seeds and levels."""
        seeds = [int(s) for s in self.rng.integers(2**31, size=self.config.rollouts)]
        if not self.levels:
            levels: list[str | None] = [None] * self.config.rollouts
        elif self.config.level_schedule == "curriculum":
            levels = [self.levels[self.level_index]] * self.config.rollouts
        else:
            levels = [str(lvl) for lvl in self.rng.choice(self.levels, size=self.config.rollouts)]
        return [
            RolloutTask(c, params, seed, level)
            for c, params in enumerate(population)
            for seed, level in zip(seeds, levels, strict=True)
        ]

    def evaluation_tasks(self, params: np.ndarray) -> list[RolloutTask]:
        """``eval_episodes`` real-game episodes of ``params`` on every held-out level (or the default one)."""
        levels: list[str | None] = list(self.eval_levels) or [None]
        base = 10**9 + self.evolution.generation * 1000
        return [RolloutTask(0, params, base + i, level) for level in levels for i in range(self.config.eval_episodes)]

    def save_best(self, params: np.ndarray, score: float) -> None:
        """Keep ``params`` in ``best.npz`` when ``score`` beats every earlier one."""
        if score > self.best_score:
            self.best_score = score
            atomic_write(
                self.out / BEST,
                lambda f: np.savez(f, params=params, score=score, generation=self.evolution.generation),
            )

    def checkpoint(self) -> None:
        """Everything needed to continue exactly: CMA-ES (and its RNG), our RNG, the curriculum, timers. The
        first one also writes the stage's ``config.json``, so a stage that failed before finishing a
        generation (a damaged latents file, a worker that cannot start) is started again by the same command."""
        if not (self.out / "config.json").is_file():
            write_json_atomic(self.out / "config.json", config_to_dict(self.config))
        save_checkpoint(
            self.out / CHECKPOINT,
            SYSTEM,
            {
                "evolution": self.evolution.state(),
                "rng": self.rng.bit_generator.state,
                "level_index": self.level_index,
                "best_score": self.best_score,
                "elapsed": self.elapsed,
                "generation": self.evolution.generation,
                "config": config_to_dict(self.config),
                "spec": config_to_dict(self.spec),
            },
        )

    def run(self) -> Path:
        """Train until ``generations`` (or ``max_minutes``) are spent; returns the stage directory."""
        c, stage = self.config, self.stage
        print(self.describe(), flush=True)
        real = make_evaluator(stage.rollouts(early_stop=True), c) if c.mode == "real" or c.eval_every else None
        if c.mode == "dream":
            dream = make_dream(stage.model, stage.run_dir, c, stage.max_steps)
            trainer: Evaluator = DreamEvaluator(dream, self.spec, c.inputs)
        else:
            assert real is not None
            trainer = real
        evaluators = {e for e in (trainer, real) if e is not None}
        for evaluator in evaluators:
            evaluator.on_event = lambda message: print(f"warning: {message}", flush=True)
        steps = 0
        logger = MetricLogger(self.out, resume_step=self.evolution.generation or None)
        sitting = Sitting("generation", c.max_minutes, self.elapsed)
        progress = TrainingProgress(
            c.generations, "generations", c.progress, self.evolution.generation, sitting.budget_s
        )
        try:
            with sitting, logger, progress:
                while self.evolution.generation < c.generations:
                    results = trainer.evaluate(self.generation_tasks(self.evolution.ask()))
                    returns = np.array([r.total_reward for r in results]).reshape(c.population, c.rollouts)
                    fitness = returns.mean(axis=1)
                    self.evolution.tell(fitness)
                    steps += sum(r.steps for r in results)
                    gen = self.evolution.generation
                    metrics = {
                        "train/fitness_mean": float(fitness.mean()),
                        "train/fitness_best": float(fitness.max()),
                        "train/fitness_worst": float(fitness.min()),
                        "train/sigma": float(self.evolution.es.sigma),
                        "train/rollout_steps": float(np.mean([r.steps for r in results])),
                        "train/events": float(len(trainer.events)),
                    }
                    metrics |= {f"level/{k}": v for k, v in per_level(results).items()}
                    if not c.eval_every:
                        self.save_best(self.evolution.population[int(fitness.argmax())], float(fitness.max()))
                    if c.level_schedule == "curriculum" and self.levels and fitness.max() >= c.curriculum_score:
                        self.level_index = min(self.level_index + 1, len(self.levels) - 1)
                    if real is not None and c.eval_every and (gen % c.eval_every == 0 or gen == c.generations):
                        mean = self.evolution.mean
                        scored = real.evaluate(self.evaluation_tasks(mean))
                        score = float(np.mean([r.total_reward for r in scored]))
                        metrics |= {
                            "eval/return_mean": score,
                            "eval/return_std": float(np.std([r.total_reward for r in scored])),
                        }
                        metrics |= {f"eval_level/{k}": v for k, v in per_level(scored).items()}
                        self.save_best(mean, score)
                    self.elapsed = sitting.elapsed
                    metrics["charts/generations_per_minute"] = 60 * gen / max(self.elapsed, 1e-9)
                    metrics["charts/episodes"] = gen * c.population * c.rollouts
                    metrics["charts/elapsed_s"] = self.elapsed
                    logger.log(gen, metrics)
                    progress.update(gen, steps, mean=metrics["train/fitness_mean"], best=metrics["train/fitness_best"])
                    self.checkpoint()
                    if sitting.should_stop():
                        break
        finally:
            for evaluator in evaluators:
                evaluator.close()
        return self.out


def load_params(stage_dir: Path, which: KeptParams = "best") -> np.ndarray:
    """A stage's controller parameters ``(D,)``: ``best`` the ones kept in ``best.npz``, ``last`` the CMA-ES
    distribution mean after the last checkpointed generation."""
    path = Path(stage_dir) / (BEST if which == "best" else CHECKPOINT)
    if not path.is_file():
        if which == "best" and (Path(stage_dir) / CHECKPOINT).is_file():
            raise RunDirError(
                f"{stage_dir} has no {BEST} yet (no real-game evaluation has run): "
                "pass --params last for the CMA-ES mean, or train past --eval-every"
            )
        raise RunDirError(f"{stage_dir} has no {path.name}: train the controller first ('gamerl train controller')")
    if which == "last":
        return Evolution.mean_of(load_checkpoint(path, SYSTEM)["evolution"])
    params = read_npz(path, ["params"], "pass --params last for the CMA-ES mean, or train the controller again")
    return np.asarray(params["params"], np.float32)
