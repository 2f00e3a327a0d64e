"""Who plays Derk's away team: a random team, a frozen checkpoint, or a pool of past checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from gamerl.algorithms.ppo.acting import make_actor
from gamerl.algorithms.ppo.heads import env_values
from gamerl.algorithms.ppo.networks import ActorCritic
from gamerl.algorithms.ppo.session import load_model, snapshots


def opponent_rng(seed: int) -> np.random.Generator:
    """The away team's random stream for ``seed``, its own: the learner acts on ``default_rng(seed)``, whose
    draws would make a frozen copy of the learner take the learner's own samples in a mirror game."""
    return np.random.default_rng([seed, 1])


class Opponent(Protocol):
    """Maps the away team's observations ``(M, 64)`` to game actions ``(M, 5)``."""

    name: str

    def new_game(self) -> None:
        """Called when new games start (a pool draws its next member here)."""
        ...

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Game actions for ``(M, 64)`` observations: ``(M, 5)`` float32."""
        ...


class RandomTeam:
    """Uniformly random actions, as ``action_space.sample()`` draws them."""

    name = "random"

    def __init__(self, seed: int) -> None:
        self.rng = opponent_rng(seed)

    def new_game(self) -> None:
        """Nothing to change between games."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """MoveX, Rotate in U(-1, 1), ChaseFocus in U(0, 1), CastingSlot in 0–3, ChangeFocus in 0–7."""
        m = len(obs)
        return np.stack(
            [
                self.rng.uniform(-1, 1, m),
                self.rng.uniform(-1, 1, m),
                self.rng.uniform(0, 1, m),
                self.rng.integers(0, 4, m),
                self.rng.integers(0, 8, m),
            ],
            axis=1,
        ).astype(np.float32)


class FrozenPolicy:
    """A trained model that samples its actions and never learns (the report's 'average' opponent).

    It acts as the learner's rollout does (:func:`~gamerl.algorithms.ppo.acting.make_actor`: NumPy for CPU
    MLPs, the sampling the acting tests check), drawing from ``rng``.
    """

    def __init__(self, model: ActorCritic, name: str, rng: np.random.Generator) -> None:
        self.actor = make_actor(model.eval(), rng)
        self.heads = model.heads
        self.name = name

    def new_game(self) -> None:
        """Nothing to change between games."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Sampled actions of the frozen policy."""
        return env_values(self.actor.sample(obs)[0], self.heads).astype(np.float32)


class CheckpointPool:
    """Self-play: each game the opponent is one of the run's ``size`` latest snapshots (random before any)."""

    name = "pool"

    def __init__(self, run_dir: Path, size: int, seed: int) -> None:
        self.run_dir, self.size = Path(run_dir), size
        self.rng = opponent_rng(seed)
        self.current: RandomTeam | FrozenPolicy = RandomTeam(seed)

    def new_game(self) -> None:
        """Draw the opponent of the next games."""
        files = snapshots(self.run_dir)[-self.size :]
        if files:
            path = files[int(self.rng.integers(len(files)))]
            self.current = FrozenPolicy(load_model(path)[0], path.stem, self.rng)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Actions of the current pool member."""
        return self.current.act(obs)
