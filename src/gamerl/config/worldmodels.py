"""Configuration of World Models part 1: data collection, the vision model V and the memory model M."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from gamerl.config.base import RunConfig
from gamerl.errors import ConfigError


def _check(checks: list[tuple[bool, str]]) -> None:
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


@dataclasses.dataclass(frozen=True)
class CollectConfig:
    """Play a game with a data policy (or import human .bk2 replays) into a rollout store."""

    store: Path
    """rollout store folder (created if absent; refused if made for another resolution or frame skip)"""
    env_id: str = "Airstriker-Genesis-v0"
    """game to play (see 'gamerl envs')"""
    policy: Literal["random", "sticky", "jerk", "bk2"] = "random"
    """random: uniform; sticky: random actions held a while; jerk: retro-baselines explorer; bk2: --movies"""
    steps: int = 10_000
    """agent steps to collect over all workers (ignored by bk2, which imports every movie)"""
    workers: int = 1
    """collector processes (one emulator each)"""
    resolution: Literal[64, 128] = 64
    """frames are resized (nearest) to resolution x resolution"""
    frame_skip: int = 4
    """emulator frames per agent step (4 = the Retro Contest's 15 FPS)"""
    levels: tuple[str, ...] = ()
    """Genesis save states to play, one picked per episode; 'contest-train' / 'contest-validation' expand to
    the game's Retro Contest levels (default: the game's default state)"""
    max_episode_steps: int = 4500
    """cut an episode after this many agent steps (the Retro Contest's limit)"""
    stickiness: float = 0.9
    """sticky policy: probability of keeping the previous action each step"""
    movies: tuple[Path, ...] = ()
    """bk2 policy: .bk2 files or folders of them"""
    chunk_steps: int = 2500
    """steps per stored chunk (the seed's 2,500)"""
    seed: int = 1
    """seed of worker i is seed + i"""
    progress: bool = True
    """show a progress bar"""

    def __post_init__(self) -> None:
        _check(
            [
                (self.steps >= 1, f"steps must be >= 1, got {self.steps}: pass --steps 10000"),
                (self.workers >= 1, f"workers must be >= 1, got {self.workers}: pass --workers 2"),
                (
                    self.frame_skip >= 1,
                    f"frame_skip must be >= 1, got {self.frame_skip}: pass --frame-skip 4",
                ),
                (
                    self.max_episode_steps >= 1,
                    f"max_episode_steps must be >= 1, got {self.max_episode_steps}",
                ),
                (0.0 <= self.stickiness < 1.0, f"stickiness must be in [0, 1), got {self.stickiness}"),
                (self.chunk_steps >= 1, f"chunk_steps must be >= 1, got {self.chunk_steps}"),
                (
                    self.policy != "bk2" or bool(self.movies),
                    "policy bk2 imports replays: pass --movies FILE_OR_DIR",
                ),
            ]
        )


@dataclasses.dataclass(frozen=True)
class VAEConfig(RunConfig):
    """Train the vision model V: a convolutional β-VAE on the frames of a rollout store."""

    store: Path = Path("data/store")
    """rollout store made by 'gamerl collect'"""
    z_dim: int | None = None
    """latent size (default: 32 at 64 px as the paper, 200 at 128 px as the seed)"""
    beta: float = 1.0
    """weight of the KL term (the seed used 4)"""
    batch_size: int = 32
    """frames per batch (the seed: 300)"""
    learning_rate: float = 1e-3
    """Adam learning rate (the seed and the paper: 1e-3)"""
    epochs: int = 10
    """passes over the training frames"""
    max_minutes: float | None = None
    """stop (with a checkpoint) after this many minutes"""
    validation_fraction: float = 0.1
    """fraction of episodes kept out for validation"""
    buffer_frames: int = 200_000
    """frames held in memory per epoch (a random subset of a larger store: the seed's rotating buffer)"""
    channels_last: bool = True
    """use the channels-last memory format (faster convolutions on CPU)"""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(
            [
                (self.z_dim is None or self.z_dim >= 1, f"z_dim must be >= 1, got {self.z_dim}"),
                (self.beta >= 0, f"beta must be >= 0, got {self.beta}: pass --beta 1"),
                (
                    self.batch_size >= 1,
                    f"batch_size must be >= 1, got {self.batch_size}: pass --batch-size 32",
                ),
                (self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}"),
                (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}: pass --epochs 10"),
                (
                    0.0 <= self.validation_fraction < 1.0,
                    f"validation_fraction must be in [0, 1), got {self.validation_fraction}",
                ),
                (
                    self.buffer_frames >= self.batch_size,
                    f"buffer_frames must be >= batch_size, got {self.buffer_frames}",
                ),
                (
                    self.max_minutes is None or self.max_minutes > 0,
                    f"max_minutes must be > 0, got {self.max_minutes}",
                ),
            ]
        )


@dataclasses.dataclass(frozen=True)
class MDNConfig:
    """Train the memory model M (MDN-LSTM) on the latents written by 'gamerl encode'."""

    hidden: int = 256
    """LSTM units (the paper: 256 CarRacing / 512 Doom; the seed: 1024)"""
    embed: int = 256
    """units of the linear + ReLU layer on [z, action] before the LSTM (the seed: 1024; 0 = none, the paper)"""
    layers: int = 1
    """LSTM layers"""
    gaussians: int = 5
    """mixture components per latent dimension (the paper: 5; the seed: 8)"""
    sequence_length: int = 100
    """steps per training sequence (the seed: 500, the paper: 1000)"""
    batch_size: int = 32
    """sequences per batch"""
    learning_rate: float = 1e-3
    """Adam learning rate"""
    grad_clip: float = 1.0
    """clip the gradient norm to this (0 = off)"""
    updates: int = 2000
    """training budget in gradient updates"""
    max_minutes: float | None = None
    """stop (with a checkpoint) after this many minutes"""
    reward_weight: float = 1.0
    """weight of the reward head's squared error"""
    done_weight: float = 1.0
    """weight of the done head's cross-entropy"""
    rotating_buffer: int = 0
    """episodes in the active buffer, 5 % swapped each epoch as in the seed (0 = use all episodes)"""
    validation_fraction: float = 0.1
    """fraction of episodes kept out for validation"""
    eval_every: int = 100
    """validation loss every this many updates"""
    checkpoint_every: int = 500
    """checkpoint every this many updates"""
    seed: int = 1
    """seed of the M stage"""
    torch_threads: int = 1
    """torch intra-op threads"""
    progress: bool = True
    """show a progress bar"""

    def __post_init__(self) -> None:
        _check(
            [
                (self.hidden >= 1 and self.embed >= 0, "hidden must be >= 1 and embed >= 0"),
                (self.layers >= 1, f"layers must be >= 1, got {self.layers}"),
                (self.gaussians >= 1, f"gaussians must be >= 1, got {self.gaussians}"),
                (self.sequence_length >= 1, f"sequence_length must be >= 1, got {self.sequence_length}"),
                (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
                (self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}"),
                (self.updates >= 1, f"updates must be >= 1, got {self.updates}: pass --updates 2000"),
                (
                    self.eval_every >= 1 and self.checkpoint_every >= 1,
                    "eval_every and checkpoint_every must be >= 1",
                ),
                (
                    0.0 <= self.validation_fraction < 1.0,
                    f"validation_fraction must be in [0, 1), got {self.validation_fraction}",
                ),
                (
                    self.max_minutes is None or self.max_minutes > 0,
                    f"max_minutes must be > 0, got {self.max_minutes}",
                ),
                (self.torch_threads >= 1, f"torch_threads must be >= 1, got {self.torch_threads}"),
            ]
        )
