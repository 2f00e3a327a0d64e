"""``gamerl train ppo``, and ``gamerl evaluate`` / ``gamerl play`` of PPO run directories."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Literal

import tyro

from gamerl.config.base import require, resume_help
from gamerl.config.ppo import PRESETS, PPOConfig, WebGL, opponent_check


@dataclasses.dataclass(frozen=True)
class TrainPPOArgs:
    """Arguments of ``gamerl train ppo``: a PPO config and an optional run to resume."""

    config: Annotated[PPOConfig, tyro.conf.arg(name="")]
    resume: Annotated[
        Path | None,
        tyro.conf.arg(
            help=resume_help("continue the run in this directory from its last checkpoint and settings", PPOConfig)
        ),
    ] = None


def train_command(args: list[str]) -> None:
    """``gamerl train ppo [--preset NAME] [--resume RUN_DIR] [options]``."""
    from gamerl.algorithms.ppo.session import SYSTEM
    from gamerl.algorithms.ppo.train import train_ppo
    from gamerl.cli import parse_with_preset

    what = "Train with clipped PPO."
    parsed = parse_with_preset(args, TrainPPOArgs, PRESETS, "report", "gamerl train ppo", what, SYSTEM)
    print(f"run directory: {train_ppo(parsed.config, resume=parsed.resume)}")


@dataclasses.dataclass(frozen=True)
class DerkMatchArgs:
    """Derk: who the run's team plays, with which items, on which WebGL backend (arguments of
    :func:`evaluate.derk_match`)."""

    opponent: Literal["random", "checkpoint"] = "random"
    """Derk: the away team"""
    opponent_checkpoint: Path | None = None
    """Derk: run directory or .pt file of the opponent (opponent=checkpoint)"""
    team_items: str | None = None
    """Derk: fix both teams' items, 'arms,misc,tail' per derkling as in training, or 'random' (default: the
    run's setting)"""
    opponent_items: str | None = None
    """Derk: the away team's items when they differ from --team-items: 'random' or a loadout (default: the
    run's setting)"""
    derk_webgl: WebGL | None = None
    """Derk: where the game's WebGL runs (default: the run's setting; see 'gamerl train ppo --help')"""

    def checked(self) -> dict[str, object]:
        """The fields as keyword arguments; a checkpoint opponent without a model is a one-line error before
        any weights load (the check of ``PPOConfig``, :func:`~gamerl.config.ppo.opponent_check`)."""
        require([opponent_check(self.opponent, self.opponent_checkpoint)])
        return dataclasses.asdict(self)


MatchArg = Annotated[DerkMatchArgs, tyro.conf.arg(name="")]


@dataclasses.dataclass(frozen=True)
class EvaluatePPOArgs:
    """Play N games with a PPO run's last weights; Derk: win rate and game score against an opponent."""

    run_dir: tyro.conf.Positional[Path]
    """run directory made by 'gamerl train ppo'"""
    episodes: int = 10
    """number of games (Derk: arena games)"""
    seed: int = 12345
    """seed of the evaluation"""
    greedy: bool = False
    """take the most likely action instead of sampling"""
    num_envs: int | None = None
    """games in parallel (Derk: arenas); default: the run's, at most --episodes"""
    reward: str = "score"
    """Derk: reward counted (default: the game's score); a preset or TOML file measures a behaviour"""
    update: int | None = None
    """play with the weights kept after this update (checkpoints/model_<N>.pt) instead of the last"""
    progress: bool = True
    """show a progress bar on the terminal"""
    match: MatchArg = DerkMatchArgs()


def evaluate_command(args: list[str]) -> None:
    """``gamerl evaluate RUN_DIR`` for a PPO run."""
    parsed = tyro.cli(EvaluatePPOArgs, args=args, prog="gamerl evaluate")
    match = parsed.match.checked()
    from gamerl.algorithms.ppo.evaluate import evaluate_ppo

    summary, path = evaluate_ppo(
        parsed.run_dir,
        parsed.episodes,
        parsed.seed,
        parsed.greedy,
        num_envs=parsed.num_envs,
        reward=parsed.reward,
        update=parsed.update,
        progress=parsed.progress,
        **match,  # type: ignore[arg-type]
    )
    play = "greedy" if parsed.greedy else "sampled"
    print(f"{play} play: " + " ".join(f"{k} {v:.4g}" for k, v in summary.items()) + f" (in {path})")


@dataclasses.dataclass(frozen=True)
class PlayPPOArgs:
    """Record one game of a PPO run as GIF or mp4 (Derk: frames captured from the game's page)."""

    run_dir: tyro.conf.Positional[Path]
    """run directory made by 'gamerl train ppo'"""
    out: Path | None = None
    """output file, .gif or .mp4 (default RUN_DIR/videos/play.gif)"""
    max_steps: int = 150
    """stop after this many steps (a Derk game is 150)"""
    seed: int = 0
    """seed of the game"""
    fps: int = 10
    """frames per second of the video"""
    greedy: bool = False
    """take the most likely action instead of sampling"""
    update: int | None = None
    """play with the weights kept after this update (checkpoints/model_<N>.pt) instead of the last"""
    match: MatchArg = DerkMatchArgs()


def play_command(args: list[str]) -> None:
    """``gamerl play RUN_DIR`` for a PPO run."""
    parsed = tyro.cli(PlayPPOArgs, args=args, prog="gamerl play")
    match = parsed.match.checked()
    from gamerl.algorithms.ppo.evaluate import record_ppo

    out = record_ppo(
        parsed.run_dir,
        parsed.out,
        parsed.max_steps,
        parsed.seed,
        parsed.fps,
        parsed.greedy,
        parsed.update,
        **match,  # type: ignore[arg-type]
    )
    print(f"video: {out}")


def is_ppo_run(args: list[str]) -> bool:
    """Whether the first argument naming a run directory points at a PPO run."""
    from gamerl.training.run import CONFIG_FILE, read_run_config

    for arg in args:
        if not arg.startswith("-") and (Path(arg) / CONFIG_FILE).is_file():
            return bool(read_run_config(Path(arg))["system"] == "ppo")
    return False
