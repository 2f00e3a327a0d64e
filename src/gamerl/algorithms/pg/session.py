"""What REINFORCE and CEM share around their loops: the run directory, the env, a sitting's stop rules, logger
and progress bar, checkpoints, figures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from gamerl.config.base import resume_config
from gamerl.config.pg import PGConfig
from gamerl.envs.atari import AtariSettings, PongDiffVectorEnv
from gamerl.envs.registry import resolve_factory
from gamerl.errors import CheckpointError
from gamerl.models.policies import PixelPolicy
from gamerl.training.checkpoints import load_checkpoint, save_checkpoint
from gamerl.training.logger import MetricLogger
from gamerl.training.progress import TrainingProgress
from gamerl.training.run import load_run_config, new_run_dir
from gamerl.training.sitting import Sitting

SYSTEM = "pg"
ENV_IDS = ("ALE/Pong-v5",)
CHECKPOINT = "checkpoints/last.pt"


def open_run(config: PGConfig, resume: Path | None) -> tuple[Path, PGConfig, dict[str, Any] | None]:
    """Create a new run directory, or reopen ``resume`` with its stored config and last checkpoint.

    On resume, the options a resume may change (``PGConfig.resume_budget`` and ``sitting_options``) come
    from ``config`` so a user can extend a finished run; everything else from the run's own ``config.json``.
    """
    if resume is None:
        resolve_factory(config.env_id, ENV_IDS)  # unknown id → one-line error before any file is made
        return new_run_dir(config, config.env_id, SYSTEM), config, None
    merged = resume_config(load_run_config(resume, PGConfig, SYSTEM), config)
    checkpoint = load_checkpoint(Path(resume) / CHECKPOINT, SYSTEM)
    return Path(resume), merged, checkpoint


def make_env(config: PGConfig, num_envs: int | None = None, num_workers: int | None = None) -> PongDiffVectorEnv:
    """The vector env of ``config`` (its game, frame skip and seed)."""
    factory = resolve_factory(config.env_id, ENV_IDS)
    settings = AtariSettings(frame_skip=config.frame_skip, repeat_action_probability=config.repeat_action_probability)
    return factory(  # type: ignore[no-any-return]
        num_envs=config.num_envs if num_envs is None else num_envs,
        seed=config.seed,
        num_workers=config.num_workers if num_workers is None else num_workers,
        settings=settings,
    )


def write_checkpoint(run_dir: Path, payload: dict[str, Any]) -> None:
    """Atomically write the run's checkpoint (``checkpoints/last.pt``)."""
    save_checkpoint(run_dir / CHECKPOINT, SYSTEM, payload)


def load_policy(run_dir: Path) -> tuple[PixelPolicy, PGConfig]:
    """The trained policy and config of a pg run directory."""
    config = load_run_config(run_dir, PGConfig, SYSTEM)
    checkpoint = load_checkpoint(Path(run_dir) / CHECKPOINT, SYSTEM)
    policy = PixelPolicy(hidden=config.hidden)
    try:
        policy.load_state_dict(checkpoint["model"])
    except (KeyError, RuntimeError) as err:
        raise CheckpointError(
            f"checkpoint of {run_dir} does not fit a policy with hidden={config.hidden} "
            f"({type(err).__name__}): it was written for another model"
        ) from None
    return policy, config


@contextlib.contextmanager
def sitting_of(
    run_dir: Path, config: PGConfig, counters: dict[str, Any], unit: str, resumed: bool
) -> Iterator[tuple[Sitting, MetricLogger, TrainingProgress]]:
    """One sitting of the PG run in ``run_dir`` (REINFORCE or CEM) at ``counters``: its stop rules (Ctrl-C
    after the ``unit`` in progress, ``--max-minutes``), its metric logger (a ``resumed`` run's records after the
    checkpoint dropped) and its progress bar over episodes."""
    with (
        Sitting(unit, config.max_minutes, counters["elapsed"]) as sitting,
        MetricLogger(run_dir, resume_step=counters["steps"] if resumed else None) as logger,
        TrainingProgress(
            config.episodes,
            "episodes",
            config.progress,
            counters["episodes"],
            sitting.budget_s,
            steps=counters["steps"],
        ) as progress,
    ):
        yield sitting, logger, progress


def finish_run(run_dir: Path, policy: PixelPolicy) -> None:
    """Write the run's figures: learning curves and first-layer weight images."""
    from gamerl.evaluation.figures import plot_learning_curve, plot_weight_images

    plot_learning_curve(run_dir, run_dir / "figures" / "learning_curve.png")
    with torch.no_grad():
        plot_weight_images(policy.w1.detach().numpy(), run_dir / "figures" / "w1_images.png")
