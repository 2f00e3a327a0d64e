"""Handlers of ``gamerl collect``, ``train vae``, ``encode``, ``train mdn`` and ``dream``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import tyro

from gamerl.config.worldmodels import CollectConfig, MDNConfig, VAEConfig


def collect_command(args: list[str]) -> None:
    """``gamerl collect --store DIR ...``"""
    config = tyro.cli(CollectConfig, args=args, prog="gamerl collect")
    from gamerl.algorithms.worldmodels.collect import collect

    result = collect(config)
    print(f"store {result.store}: {result.episodes} episodes, {result.steps} steps")


@dataclasses.dataclass(frozen=True)
class TrainVAEArgs:
    config: Annotated[VAEConfig, tyro.conf.arg(name="")]
    resume: Path | None = None
    """continue the World Models run in this directory from its last V checkpoint"""


def train_vae_command(args: list[str]) -> None:
    """``gamerl train vae --store DIR ...``"""
    parsed = tyro.cli(
        TrainVAEArgs,
        args=args,
        prog="gamerl train vae",
        description="Train the vision model V (a convolutional β-VAE) on a rollout store.",
    )
    from gamerl.algorithms.worldmodels.vae import train_vae

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


def encode_command(args: list[str]) -> None:
    """``gamerl encode RUN_DIR``"""
    parsed = tyro.cli(EncodeArgs, args=args, prog="gamerl encode")
    from gamerl.algorithms.worldmodels.encode import encode_store

    latents = encode_store(parsed.run_dir, parsed.store, parsed.batch_size)
    print(f"encoded {len(latents.mu)} frames of {len(latents.lengths)} episodes into {parsed.run_dir}")


@dataclasses.dataclass(frozen=True)
class TrainMDNArgs:
    run_dir: tyro.conf.Positional[Path]
    """World Models run directory holding latents.npz (from 'gamerl encode')"""
    config: Annotated[MDNConfig, tyro.conf.arg(name="")]
    resume: bool = False
    """continue M from its last checkpoint with the stored settings"""


def train_mdn_command(args: list[str]) -> None:
    """``gamerl train mdn RUN_DIR ...``"""
    parsed = tyro.cli(
        TrainMDNArgs,
        args=args,
        prog="gamerl train mdn",
        description="Train the memory model M (MDN-LSTM) on a run's encoded latents.",
    )
    from gamerl.algorithms.worldmodels.mdn import train_mdn

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
