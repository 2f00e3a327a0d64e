"""Configuration of policy gradients from pixels (REINFORCE and the cross-entropy method) on Pong."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

from gamerl.config.base import RunConfig, max_minutes_check
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
        checks = [
            (self.episodes >= 1, f"episodes must be >= 1, got {self.episodes}: pass --episodes 200"),
            (self.num_envs >= 1, f"num_envs must be >= 1, got {self.num_envs}: pass --num-envs 16"),
            (self.num_workers >= 0, f"num_workers must be >= 0, got {self.num_workers}: pass --num-workers 1"),
            (self.frame_skip >= 1, f"frame_skip must be >= 1, got {self.frame_skip}: pass --frame-skip 4"),
            (self.hidden >= 1, f"hidden must be >= 1, got {self.hidden}: pass --hidden 200"),
            (0.0 < self.gamma <= 1.0, f"gamma must be in (0, 1], got {self.gamma}: pass --gamma 0.99"),
            (
                self.batch_episodes >= 1,
                f"batch_episodes must be >= 1, got {self.batch_episodes}: pass --batch-episodes 10",
            ),
            (self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}: pass --learning-rate 1e-4"),
            (0.0 < self.rmsprop_decay < 1.0, f"rmsprop_decay must be in (0, 1), got {self.rmsprop_decay}"),
            (0.0 < self.cem_elite_frac <= 1.0, f"cem_elite_frac must be in (0, 1], got {self.cem_elite_frac}"),
            (self.cem_init_std > 0, f"cem_init_std must be > 0, got {self.cem_init_std}"),
            max_minutes_check(self.max_minutes),
            (
                0.0 <= self.repeat_action_probability < 1.0,
                f"repeat_action_probability must be in [0, 1), got {self.repeat_action_probability}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
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
