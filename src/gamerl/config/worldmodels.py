"""Configuration of World Models part 1: data collection, the vision model V and the memory model M."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar, Literal

from gamerl.config.base import RunConfig, field_check, require
from gamerl.training.device import device_check

KeptParams = Literal["best", "last"]
"""which parameters of a controller stage to play: ``best.npz`` or the last CMA-ES distribution mean"""


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
        require(
            [
                field_check(self, "seed", ">= 0"),
                field_check(self, "steps", ">= 1"),
                field_check(self, "workers", ">= 1"),
                field_check(self, "frame_skip", ">= 1"),
                field_check(self, "max_episode_steps", ">= 1"),
                field_check(self, "stickiness", "in [0, 1)"),
                field_check(self, "chunk_steps", ">= 1"),
                (self.policy != "bk2" or bool(self.movies), "policy bk2 imports replays: pass --movies FILE_OR_DIR"),
            ]
        )


@dataclasses.dataclass(frozen=True)
class VAEConfig(RunConfig):
    """Train the vision model V: a convolutional β-VAE on the frames of a rollout store."""

    resume_budget: ClassVar[tuple[str, ...]] = ("epochs",)
    sitting_options: ClassVar[tuple[str, ...]] = ("max_minutes", "progress", "torch_threads", "device")

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
    device: str = "auto"
    """torch device V trains on: auto (a CUDA GPU when PyTorch sees one, else cpu), cpu, cuda or cuda:N"""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            [
                field_check(self, "z_dim", ">= 1", example=32),
                field_check(self, "beta", ">= 0"),
                field_check(self, "batch_size", ">= 1"),
                field_check(self, "learning_rate", "> 0"),
                field_check(self, "epochs", ">= 1"),
                field_check(self, "validation_fraction", "in [0, 1)"),
                (
                    self.buffer_frames >= self.batch_size,
                    f"buffer_frames must be >= batch_size ({self.batch_size}), got {self.buffer_frames}: "
                    f"pass --buffer-frames {max(self.batch_size, 200_000)}",
                ),
                field_check(self, "max_minutes", "> 0", example=60),
                device_check(self.device),
            ]
        )


@dataclasses.dataclass(frozen=True)
class MDNConfig:
    """Train the memory model M (MDN-LSTM) on the latents written by 'gamerl encode'."""

    resume_budget: ClassVar[tuple[str, ...]] = ("updates",)
    """see ``RunConfig``: what a resume may extend, and how one invocation runs"""
    sitting_options: ClassVar[tuple[str, ...]] = ("max_minutes", "progress", "torch_threads", "device")

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
    device: str = "auto"
    """torch device M trains on: auto (a CUDA GPU when PyTorch sees one, else cpu), cpu, cuda or cuda:N"""
    progress: bool = True
    """show a progress bar"""

    def __post_init__(self) -> None:
        require(
            [
                field_check(self, "seed", ">= 0"),
                field_check(self, "hidden", ">= 1"),
                field_check(self, "embed", ">= 0"),
                field_check(self, "layers", ">= 1"),
                field_check(self, "gaussians", ">= 1"),
                field_check(self, "sequence_length", ">= 1"),
                field_check(self, "batch_size", ">= 1"),
                field_check(self, "learning_rate", "> 0"),
                field_check(self, "grad_clip", ">= 0"),
                field_check(self, "updates", ">= 1"),
                field_check(self, "eval_every", ">= 1"),
                field_check(self, "checkpoint_every", ">= 1"),
                field_check(self, "validation_fraction", "in [0, 1)"),
                field_check(self, "max_minutes", "> 0", example=60),
                field_check(self, "torch_threads", ">= 1"),
                device_check(self.device),
            ]
        )


@dataclasses.dataclass(frozen=True)
class ControllerConfig:
    """Evolve the controller C with CMA-ES, in the real game or inside M's dream."""

    resume_budget: ClassVar[tuple[str, ...]] = ("generations",)
    """see ``RunConfig``: what a resume may extend, and how one invocation runs"""
    sitting_options: ClassVar[tuple[str, ...]] = (
        "max_minutes",
        "progress",
        "workers",
        "backend",
        "address",
        "task_timeout_s",
    )

    mode: Literal["real", "dream"] = "real"
    """real: rollouts in the game (the seed); dream: rollouts inside M, scored by its reward/done heads (the
    paper's Doom experiment), the best candidate then scored in the real game"""
    env_id: str | None = None
    """game to play (default: the game of the run's rollout store)"""
    inputs: Literal["zh", "zhc"] = "zh"
    """C reads [z, h] (the paper) or [z, h, c] (the seed)"""
    hidden_units: int = 0
    """0 = linear C (the seed); 40 = the paper's hidden-layer variant"""
    generations: int = 100
    """CMA-ES generations"""
    population: int = 16
    """candidates per generation"""
    rollouts: int = 4
    """rollouts per candidate; fitness = their mean return"""
    sigma0: float = 0.1
    """initial CMA-ES step size"""
    rank_shaping: bool = False
    """tell CMA-ES the seed's centred ranks in [-0.5, 0.5] instead of raw returns"""
    diagonal: Literal["auto", "on", "off"] = "auto"
    """sep-CMA (diagonal covariance): auto = above 1,000 parameters"""
    temperature: float = 1.15
    """dream mode: M's sampling temperature τ (the paper: 1.15 for Doom)"""
    max_steps: int | None = None
    """agent steps per rollout (default: the env's own limit; take_cover 2,100 tics)"""
    reset_every: int = 0
    """reset M's LSTM state every this many steps in the real game (0 = never; the seed reset it)"""
    early_stop_window: int = 0
    """end a real rollout when the reward summed over the last this many steps falls below the threshold
    (0 = off, the default: the seed found it biased play; it used 300-600)"""
    early_stop_threshold: float = 10.0
    """the early-stop threshold (the seed: 10)"""
    levels: tuple[str, ...] = ()
    """Genesis levels to train on ('contest-train' expands to the game's Retro Contest training levels)"""
    level_schedule: Literal["random", "curriculum"] = "random"
    """random: a random training level per rollout; curriculum: stay on a level until the score is reached"""
    curriculum_score: float = 3000.0
    """curriculum: move to the next level when the best candidate's mean return reaches this"""
    eval_levels: tuple[str, ...] = ()
    """held-out Genesis levels scored every eval_every generations ('contest-validation' expands)"""
    eval_every: int = 10
    """score the distribution mean in the real game every this many generations (0 = never)"""
    eval_episodes: int = 8
    """real-game episodes per periodic evaluation"""
    backend: Literal["local", "ray"] = "local"
    """real-game rollouts: a local process pool, or Ray actors"""
    workers: int = 2
    """rollout workers (local processes or Ray actors); 0 = in this process"""
    address: str | None = None
    """Ray: address of an existing cluster ('auto', 'ray://host:10001'); default: a local Ray instance"""
    task_timeout_s: float = 300.0
    """a worker with no result for this long is killed and its rollout re-run elsewhere"""
    seed: int = 1
    """seeds CMA-ES and the rollouts"""
    max_minutes: float | None = None
    """stop (with a checkpoint) after this many minutes"""
    progress: bool = True
    """show a progress bar"""

    def __post_init__(self) -> None:
        require(
            [
                field_check(self, "seed", ">= 0"),
                field_check(self, "hidden_units", ">= 0"),
                field_check(self, "generations", ">= 1"),
                field_check(self, "population", ">= 2"),
                field_check(self, "rollouts", ">= 1"),
                field_check(self, "sigma0", "> 0"),
                field_check(self, "temperature", "> 0"),
                field_check(self, "max_steps", ">= 1", example=1000),
                field_check(self, "reset_every", ">= 0"),
                field_check(self, "early_stop_window", ">= 0"),
                field_check(self, "eval_every", ">= 0"),
                field_check(self, "eval_episodes", ">= 1"),
                field_check(self, "workers", ">= 0"),
                field_check(self, "task_timeout_s", "> 0"),
                field_check(self, "max_minutes", "> 0", example=60),
                (self.backend != "ray" or self.workers >= 1, "the ray backend needs workers: pass --workers 2"),
            ]
        )
