"""Handlers of ``gamerl collect``, ``train vae``, ``encode``, ``train mdn`` and ``dream``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Literal

import tyro

from gamerl.cli import parse_resumable
from gamerl.config.base import resume_help
from gamerl.config.worldmodels import CollectConfig, ControllerConfig, KeptParams, MDNConfig, VAEConfig
from gamerl.training.run import load_run_config


def collect_command(args: list[str]) -> None:
    """``gamerl collect --store DIR ...``"""
    config = tyro.cli(CollectConfig, args=args, prog="gamerl collect")
    from gamerl.algorithms.worldmodels.collect import collect

    result = collect(config)
    print(f"store {result.store}: {result.episodes} episodes, {result.steps} steps")


@dataclasses.dataclass(frozen=True)
class TrainVAEArgs:
    """Arguments of ``gamerl train vae``: a V config and an optional run to resume."""

    config: Annotated[VAEConfig, tyro.conf.arg(name="")]
    resume: Annotated[
        Path | None,
        tyro.conf.arg(
            help=resume_help("continue the World Models run in this directory from its V checkpoint", VAEConfig)
        ),
    ] = None


def train_vae_command(args: list[str]) -> None:
    """``gamerl train vae --store DIR ...``"""
    from gamerl.algorithms.worldmodels.vae import SYSTEM, train_vae

    parsed = parse_resumable(
        args,
        TrainVAEArgs,
        TrainVAEArgs(config=VAEConfig()),
        "gamerl train vae",
        "Train the vision model V (a convolutional β-VAE) on a rollout store.",
        lambda p: None if p.resume is None else load_run_config(p.resume, VAEConfig, SYSTEM),
    )

    print(f"run directory: {train_vae(parsed.config, resume=parsed.resume)}")


@dataclasses.dataclass(frozen=True)
class EncodeArgs:
    """Encode every finished episode of the run's store with its V into RUN_DIR/latents.npz."""

    run_dir: tyro.conf.Positional[Path]
    """World Models run directory (made by 'gamerl train vae')"""
    store: Path | None = None
    """encode this store instead of the run's (must match its resolution and frame skip)"""
    batch_size: int = 256
    """frames per forward pass"""
    device: str = "auto"
    """torch device V encodes on: auto (a CUDA GPU when PyTorch sees one, else cpu), cpu, cuda or cuda:N"""


def encode_command(args: list[str]) -> None:
    """``gamerl encode RUN_DIR``"""
    parsed = tyro.cli(EncodeArgs, args=args, prog="gamerl encode")
    from gamerl.algorithms.worldmodels.encode import encode_store

    latents = encode_store(parsed.run_dir, parsed.store, parsed.batch_size, device=parsed.device)
    print(f"encoded {len(latents.mu)} frames of {len(latents.lengths)} episodes into {parsed.run_dir}")


@dataclasses.dataclass(frozen=True)
class TrainMDNArgs:
    """Arguments of ``gamerl train mdn``: the run holding the latents and an M config."""

    run_dir: tyro.conf.Positional[Path]
    """World Models run directory holding latents.npz (from 'gamerl encode')"""
    config: Annotated[MDNConfig, tyro.conf.arg(name="")]
    resume: Annotated[bool, tyro.conf.arg(help=resume_help("continue M from its last checkpoint", MDNConfig))] = False


def train_mdn_command(args: list[str]) -> None:
    """``gamerl train mdn RUN_DIR ...``"""
    from gamerl.algorithms.worldmodels.mdn import stored_mdn_config, train_mdn

    parsed = parse_resumable(
        args,
        TrainMDNArgs,
        None,
        "gamerl train mdn",
        "Train the memory model M (MDN-LSTM) on a run's encoded latents.",
        lambda p: stored_mdn_config(p.run_dir) if p.resume else None,
    )

    print(f"run directory: {train_mdn(parsed.run_dir, parsed.config, resume=parsed.resume)}")


@dataclasses.dataclass(frozen=True)
class DreamArgs:
    """Figures of what M predicts: figures/mdn_prediction.png and videos/dream.gif in RUN_DIR."""

    run_dir: tyro.conf.Positional[Path]
    """World Models run directory with trained V and M"""
    steps: int = 8
    """open-loop steps in the prediction strip"""
    gif_steps: int = 60
    """steps of the dream GIF"""
    temperature: float = 1.0
    """sampling temperature τ of the dream"""
    episode: int = 0
    """stored episode whose first frame starts the dream"""
    seed: int = 0
    """seed of the dream's samples"""


def dream_command(args: list[str]) -> None:
    """``gamerl dream RUN_DIR``"""
    parsed = tyro.cli(DreamArgs, args=args, prog="gamerl dream")
    from gamerl.algorithms.worldmodels.dream import dream

    result = dream(parsed.run_dir, parsed.steps, parsed.gif_steps, parsed.temperature, parsed.seed, parsed.episode)
    print(f"prediction strip: {result.strip}\ndream: {result.gif}")


@dataclasses.dataclass(frozen=True)
class TrainControllerArgs:
    """Arguments of ``gamerl train controller``: the run with V and M, a C config and the stage name."""

    run_dir: tyro.conf.Positional[Path]
    """World Models run directory with trained V and M"""
    config: Annotated[ControllerConfig, tyro.conf.arg(name="")]
    name: str | None = None
    """name of this controller stage, RUN_DIR/controller/NAME (default: the mode, 'real' or 'dream')"""
    resume: Annotated[
        bool, tyro.conf.arg(help=resume_help("continue the stage from its last checkpoint", ControllerConfig))
    ] = False


def train_controller_command(args: list[str]) -> None:
    """``gamerl train controller RUN_DIR ...``"""
    from gamerl.algorithms.worldmodels.control import (
        ControllerStage,
        ControllerTrainer,
        stage_dir,
        stored_stage_config,
    )

    parsed = parse_resumable(
        args,
        TrainControllerArgs,
        None,
        "gamerl train controller",
        "Evolve the controller C with CMA-ES, in the real game or inside M's dream.",
        lambda p: stored_stage_config(stage_dir(p.run_dir, p.name, p.config)) if p.resume else None,
    )

    stage = ControllerStage.open(parsed.run_dir, parsed.config, parsed.name, parsed.resume)
    print(f"controller stage: {ControllerTrainer(stage, parsed.resume).run()}")


@dataclasses.dataclass(frozen=True)
class EvaluateControllerArgs:
    """Score a World Models controller (its best.npz) in the real game."""

    run_dir: tyro.conf.Positional[Path]
    """World Models run directory"""
    controller: str | None = None
    """controller stage name (default: the only one)"""
    episodes: int = 100
    """real-game episodes"""
    workers: int = 2
    """local worker processes (0 = in this process)"""
    seed: int = 0
    """evaluation seed offset (evaluation seeds never overlap training's)"""
    protocol: Literal["episodes", "retro-contest"] = "episodes"
    """episodes: mean ± std over --episodes; retro-contest: the contest's per-level scores (Genesis games)"""
    levels: tuple[str, ...] = ()
    """retro-contest: levels of the run's game, or 'contest-validation' (default: the validation levels for
    Sonic, every level otherwise)"""
    timesteps_per_level: int = 10_000
    """retro-contest: agent steps per level (the contest: 1,000,000)"""
    baseline: Literal["random", "jerk"] | None = None
    """retro-contest: score this baseline policy on the run's game instead of a controller (none needed)"""
    params: KeptParams = "best"
    """best: best.npz (the best periodic real-game evaluation); last: the CMA-ES mean after the last generation"""
    progress: bool = True
    """show a progress bar"""


def is_worldmodels_run(args: list[str]) -> bool:
    """Whether the first argument naming a directory points at a World Models run."""
    from gamerl.algorithms.worldmodels.stages import MANIFEST

    return any(not a.startswith("-") and (Path(a) / MANIFEST).is_file() for a in args)


def evaluate_command(args: list[str]) -> None:
    """``gamerl evaluate RUN_DIR`` for a World Models run."""
    parsed = tyro.cli(EvaluateControllerArgs, args=args, prog="gamerl evaluate")
    from gamerl.algorithms.worldmodels.evaluate import contest_controller, evaluate_controller

    if parsed.protocol == "retro-contest":
        report = contest_controller(
            parsed.run_dir,
            parsed.controller,
            parsed.levels,
            parsed.timesteps_per_level,
            parsed.seed,
            parsed.baseline,
            parsed.progress,
            parsed.params,
        )
        print(report.table())
        return
    s = evaluate_controller(
        parsed.run_dir, parsed.controller, parsed.episodes, parsed.workers, parsed.seed, parsed.params, parsed.progress
    )
    score = f"{s['return_mean']:.1f} ± {s['return_std']:.1f} over {s['episodes']} episodes"
    print(
        f"{s['env_id']} controller '{s['controller']}' ({parsed.params} parameters): {score} (in {s['results_file']})"
    )


@dataclasses.dataclass(frozen=True)
class PlayControllerArgs:
    """Record a World Models controller playing one real episode as a GIF or mp4."""

    run_dir: tyro.conf.Positional[Path]
    """World Models run directory"""
    controller: str | None = None
    """controller stage name (default: the only one)"""
    out: Path | None = None
    """output file, .gif or .mp4 (default RUN_DIR/controller/NAME/videos/play.gif)"""
    max_steps: int = 600
    """stop after this many agent steps"""
    fps: int = 15
    """frames per second of the video"""
    seed: int = 0
    """episode seed"""
    params: KeptParams = "best"
    """best: best.npz; last: the CMA-ES mean after the last generation"""


def play_command(args: list[str]) -> None:
    """``gamerl play RUN_DIR`` for a World Models run."""
    parsed = tyro.cli(PlayControllerArgs, args=args, prog="gamerl play")
    from gamerl.algorithms.worldmodels.evaluate import record_controller

    out = record_controller(
        parsed.run_dir, parsed.controller, parsed.out, parsed.max_steps, parsed.seed, parsed.fps, parsed.params
    )
    print(f"video: {out}")
