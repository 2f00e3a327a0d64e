"""Configuration of clipped PPO (the Derk report's hyperparameters by default) and its presets."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar, Literal

from gamerl.config.base import RunConfig, field_check, require
from gamerl.training.device import device_check

DERK_ENV_ID = "Derk-v0"

Precision = Literal["auto", "float32", "bfloat16"]
WebGL = Literal["auto", "llvmpipe", "swiftshader"]
"""where Derk's WebGL runs (:func:`gamerl.envs.derk.resolve_webgl`)"""
"""how a network's layers compute: float32, or bfloat16 under autocast (float32 weights and optimizer);
``auto`` is bfloat16 on CPUs with native bfloat16 (AVX-512 BF16 or AMX), float32 elsewhere (GPUs included)"""


def opponent_check(opponent: str, opponent_checkpoint: Path | None) -> tuple[bool, str]:
    """The check that a checkpoint opponent names its model, as (ok, one-line message)."""
    ok = opponent != "checkpoint" or opponent_checkpoint is not None
    return ok, "--opponent checkpoint needs a model: pass --opponent-checkpoint RUN_DIR"


@dataclasses.dataclass(frozen=True)
class PPOConfig(RunConfig):
    """Clipped PPO with separate policy and value networks; one update per rollout of num_steps steps."""

    resume_budget: ClassVar[tuple[str, ...]] = ("updates", "target_return")
    sitting_options: ClassVar[tuple[str, ...]] = (
        "max_minutes",
        "progress",
        "torch_threads",
        "device",
        "derk_timeout_s",
        "derk_restarts",
        "derk_webgl",
    )

    env_id: str = "CartPole-v1"
    """Derk-v0 (two teams of three) or any Gymnasium id with a discrete/box action space"""
    updates: int = 300
    """training budget in updates; with Derk's num_steps=150 one update is one game in every arena"""
    max_minutes: float | None = None
    """stop (with a checkpoint) after this many minutes of training; None = no time limit"""
    target_return: float | None = None
    """stop early once the mean return of the last 20 episodes reaches this (e.g. 475 on CartPole-v1)"""
    num_envs: int = 8
    """games played in parallel (Derk: arenas, each with 3 learning agents)"""
    num_steps: int = 150
    """steps per game and rollout before each update (Derk games last 150 steps)"""
    gamma: float = 0.995
    """discount factor (the report: 0.995)"""
    gae_lambda: float = 0.95
    """GAE lambda (1 = Monte-Carlo returns)"""
    clip: float = 0.2
    """epsilon of the clipped surrogate (the report: 0.2)"""
    ent_coef: float = 0.01
    """entropy bonus coefficient, on the sum of the heads' entropies (the report's beta: 0.01)"""
    policy_lr: float = 3e-4
    """Adam learning rate of the policy network"""
    value_lr: float = 1e-3
    """Adam learning rate of the value network"""
    epochs: int = 10
    """passes over each rollout"""
    minibatches: int = 1
    """minibatches per pass (the report: 1)"""
    max_grad_norm: float = 0.5
    """clip each network's gradient norm to this"""
    norm_adv: bool = True
    """standardise advantages in each minibatch"""
    policy_hidden: tuple[int, ...] = (512, 256, 256)
    """hidden layer sizes of the policy network"""
    value_hidden: tuple[int, ...] = (512, 512, 256)
    """hidden layer sizes of the value network"""
    share_encoder: bool = False
    """pixel observations (Atari): one Nature CNN feeding both networks, as SB3's CnnPolicy (half the
    convolution work); False = each network has its own"""
    pixel_precision: Precision = "auto"
    """pixel observations: the convolutions' arithmetic, float32 or bfloat16 (float32 weights and optimizer);
    auto = bfloat16 on CPUs with native bfloat16 (AVX-512 BF16, AMX), float32 elsewhere"""
    mlp_precision: Precision = "float32"
    """the policy and value MLPs' hidden layers: float32, or bfloat16 under autocast (weights, optimizer,
    output layers and losses stay float32; NumPy acting on the CPU stays float32): half a Derk update's
    time on CPUs with native bfloat16 (AVX-512 BF16, AMX), ``bench/update_kernels.py``; auto = bfloat16 on
    those CPUs, float32 elsewhere"""
    continuous: Literal["binned", "gaussian"] = "binned"
    """continuous action components (Derk: MoveX, Rotate, ChaseFocus): categorical over bins, or gaussian"""
    bins: int = 9
    """bins per continuous component (the report: 9)"""
    init_from: Path | None = None
    """fine-tune: start from the weights of this run directory (or .pt file), e.g. with another reward"""
    reward: str = "offensive"
    """Derk reward function: preset 'offensive' or 'defensive' (the report's values), or a TOML file"""
    opponent: Literal["random", "checkpoint", "pool"] = "random"
    """Derk away team: random actions, a frozen checkpoint, or a pool of this run's past checkpoints"""
    opponent_checkpoint: Path | None = None
    """run directory or .pt file of the frozen opponent (opponent=checkpoint)"""
    pool_size: int = 5
    """opponent=pool: how many of this run's latest checkpoints the opponent is drawn from (one per game)"""
    team_items: str | None = None
    """Derk items: None or 'random' = random per game (as the game does), or fixed for both teams as
    'arms,misc,tail' per derkling, e.g. 'Pistol,FrogLegs,;Talons,,;Blaster,,HealingGland'"""
    opponent_items: str | None = None
    """Derk away team's items when they differ from team_items: 'random' (per game) or a loadout as
    team_items; None = as team_items"""
    device: str = "auto"
    """torch device of the learner: auto (a CUDA GPU when PyTorch sees one, else cpu), cpu, cuda or cuda:N"""
    derk_timeout_s: float = 180.0
    """Derk: seconds any start-up or step may take before the browser is declared hung"""
    derk_restarts: int = 2
    """Derk: restarts in a row (no game finished in between) of a crashed or hung browser before training stops
    with an error"""
    derk_webgl: WebGL = "auto"
    """Derk: where the game's WebGL shaders (its simulation) run on the CPU: Mesa's llvmpipe (the faster),
    Chromium's SwiftShader, or auto (llvmpipe where Mesa's EGL is installed)"""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            [
                field_check(self, "updates", ">= 1"),
                field_check(self, "num_envs", ">= 1"),
                field_check(self, "num_steps", ">= 1"),
                field_check(self, "gamma", "in (0, 1]"),
                field_check(self, "gae_lambda", "in [0, 1]"),
                field_check(self, "clip", "in (0, 1)"),
                field_check(self, "ent_coef", ">= 0"),
                field_check(self, "policy_lr", "> 0"),
                field_check(self, "value_lr", "> 0"),
                field_check(self, "epochs", ">= 1"),
                field_check(self, "minibatches", ">= 1"),
                (
                    self.minibatches <= self.num_envs * self.num_steps,
                    f"minibatches must be <= num_envs x num_steps, the samples of a rollout "
                    f"({self.num_envs} x {self.num_steps}), got {self.minibatches}: pass fewer --minibatches",
                ),
                field_check(self, "max_grad_norm", "> 0"),
                (
                    all(h >= 1 for h in self.policy_hidden + self.value_hidden),
                    "hidden sizes must be >= 1: pass --policy-hidden 512 256 256 --value-hidden 512 512 256",
                ),
                field_check(self, "bins", ">= 2"),
                field_check(self, "max_minutes", "> 0", example=60),
                device_check(self.device),
                field_check(self, "pool_size", ">= 1"),
                field_check(self, "derk_timeout_s", "> 0"),
                field_check(self, "derk_restarts", ">= 0"),
                opponent_check(self.opponent, self.opponent_checkpoint),
            ]
        )


DERK_ARENAS = 128
"""A Derk step costs about the same whatever the arena count until the browser fills both cores: home
agent-steps/s measured here were 90 with 16 arenas, 475–680 with 128, 960 with 256 (later machines:
1,130–1,360 with 128). 4 minibatches of 128 x 3 x 150 samples are about the report's batch (50 arenas,
1 minibatch)."""

DERK_TORCH_THREADS = 2
"""The browser waits while the learner updates, so the update gets both cores of a 2-core machine;
pass ``--torch-threads N`` for more cores."""


DERK_MLP_PRECISION: Precision = "auto"
"""bfloat16 hidden layers where the CPU has native bfloat16: a Derk update in 0.52x the float32 time there
(``bench/update_kernels.py``), and seven 30-update runs showed no difference in learning per update
(``docs/results/derk_ppo.md``); float32 elsewhere and on GPUs."""


def derk_preset(reward: str) -> tuple[str, PPOConfig]:
    """A Derk preset with the ``reward`` preset: its description and config."""
    config = PPOConfig(
        env_id=DERK_ENV_ID,
        num_envs=DERK_ARENAS,
        minibatches=4,
        reward=reward,
        torch_threads=DERK_TORCH_THREADS,
        mlp_precision=DERK_MLP_PRECISION,
    )
    return (
        f"Derk-v0, {reward} rewards, {config.num_envs} arenas against a random team, {config.minibatches} "
        f"minibatches, {config.torch_threads} torch threads, hidden layers in bfloat16 on CPUs with native "
        "bfloat16",
        config,
    )


PRESETS: dict[str, tuple[str, PPOConfig]] = {
    "report": (
        "the Derk report's hyperparameters (nets 512-256-256 / 512-512-256, 10 epochs, 1 minibatch)",
        PPOConfig(),
    ),
    **{f"derk-{reward}": derk_preset(reward) for reward in ("offensive", "defensive")},
    "cartpole": (
        "small nets, 32 games x 64 steps per rollout, 1 epoch x 2 minibatches; stops at a mean return of 475 "
        "(last 20 episodes): CartPole-v1 in about 1 s",
        PPOConfig(
            env_id="CartPole-v1",
            updates=400,
            target_return=475.0,
            num_envs=32,
            num_steps=64,
            gamma=0.99,
            gae_lambda=0.95,
            ent_coef=0.0,
            policy_lr=2e-3,
            value_lr=2e-3,
            epochs=1,
            minibatches=2,
            policy_hidden=(64, 64),
            value_hidden=(64, 64),
            checkpoint_every=20,
        ),
    ),
    "atari": (
        "CleanRL's Atari settings on ALE/Pong-v5 (--env-id for another game): one Nature CNN feeding a linear "
        "policy and a linear value head (SB3's CnnPolicy), 8 games x 128 steps, 10M frames",
        PPOConfig(
            env_id="ALE/Pong-v5",
            updates=2_500,
            num_envs=8,
            num_steps=128,
            gamma=0.99,
            gae_lambda=0.95,
            clip=0.1,
            ent_coef=0.01,
            policy_lr=2.5e-4,
            value_lr=2.5e-4,
            epochs=4,
            minibatches=4,
            policy_hidden=(),
            value_hidden=(),
            share_encoder=True,
            checkpoint_every=100,
        ),
    ),
}
"""named starting points for ``gamerl train ppo --preset NAME``"""
