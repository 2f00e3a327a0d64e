"""Configuration of policy gradients from pixels (REINFORCE and the cross-entropy method) on Pong."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

from gamerl.config.base import RunConfig, field_check, require
from gamerl.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class PGConfig(RunConfig):
    """REINFORCE (the post) or the cross-entropy method on the post's 2-layer pixel policy."""

    resume_budget: ClassVar[tuple[str, ...]] = ("episodes",)
    sitting_options: ClassVar[tuple[str, ...]] = ("max_minutes", "progress", "torch_threads")

    env_id: str = "ALE/Pong-v5"
    """environment id (Atari Pong with the post's preprocessing)"""
    method: Literal["reinforce", "cem"] = "reinforce"
    """reinforce: the post's policy gradient; cem: cross-entropy method on the same policy"""
    episodes: int = 200
    """training budget in episodes (games to 21)"""
    max_minutes: float | None = None
    """stop (with a checkpoint) after this many minutes of training; None = no time limit"""
    num_envs: int = 16
    """games played in parallel (one batched policy forward pass per step)"""
    num_workers: int = 1
    """emulator worker processes besides the learner, which steps an equal share itself (0 = learner only)"""
    frame_skip: int = 4
    """emulator frames per agent step"""
    repeat_action_probability: float = 0.0
    """sticky-action probability (0.25 in ALE v5's default; the post used 0)"""
    hidden: int = 200
    """hidden units of the policy"""
    gamma: float = 0.99
    """discount factor"""
    reset_on_point: bool = True
    """restart the discounted sum at each point scored (the post's Pong-specific trick)"""
    standardize: Literal["batch", "episode"] = "batch"
    """standardise returns over the whole batch, or per episode as the post's code does"""
    batch_episodes: int = 10
    """REINFORCE: one update per this many finished episodes"""
    optimizer: Literal["rmsprop", "adam"] = "rmsprop"
    """REINFORCE optimizer (the post: RMSProp)"""
    learning_rate: float = 1e-4
    """REINFORCE learning rate (the post: 1e-4)"""
    rmsprop_decay: float = 0.99
    """RMSProp decay of the squared-gradient average (the post: 0.99)"""
    cem_elite_frac: float = 0.2
    """CEM: fraction of each generation kept as elites"""
    cem_init_std: float = 0.05
    """CEM: initial standard deviation of the parameter distribution"""
    cem_extra_std: float = 0.01
    """CEM: noise floor added to the elite standard deviation"""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            [
                field_check(self, "episodes", ">= 1"),
                field_check(self, "num_envs", ">= 1"),
                field_check(self, "num_workers", ">= 0"),
                field_check(self, "frame_skip", ">= 1"),
                field_check(self, "hidden", ">= 1"),
                field_check(self, "gamma", "in (0, 1]"),
                field_check(self, "batch_episodes", ">= 1"),
                field_check(self, "learning_rate", "> 0"),
                field_check(self, "rmsprop_decay", "in (0, 1)"),
                field_check(self, "cem_elite_frac", "in (0, 1]"),
                field_check(self, "cem_init_std", "> 0"),
                field_check(self, "cem_extra_std", ">= 0"),
                field_check(self, "max_minutes", "> 0", example=60),
                field_check(self, "repeat_action_probability", "in [0, 1)"),
            ]
        )
        if self.method == "cem" and self.num_envs < 2:
            raise ConfigError("cem needs a population: pass --num-envs 16 (one candidate per game)")


PRESETS: dict[str, tuple[str, PGConfig]] = {
    "post": ("the post's exact hyperparameters (RMSProp 1e-4, batch of 10 episodes)", PGConfig()),
    "fast": (
        "the post's algorithm with a 10x learning rate: learns Pong in far fewer episodes",
        PGConfig(learning_rate=1e-3),
    ),
    "cem": ("cross-entropy method on the same policy, one candidate per game", PGConfig(method="cem")),
}
"""named starting points for ``gamerl train pg --preset NAME``"""
