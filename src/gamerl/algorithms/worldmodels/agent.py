"""The World Models agent in a real game (V → M → C each step) and the rollout workers that score candidates.

:class:`WorldModelAgent` has the ``reset()`` / ``act(obs)`` interface of gamerl's evaluation protocols.
:class:`RealRollouts` is a picklable worker factory for the evaluators (models loaded and the emulator made
once per worker); :class:`DreamEvaluator` scores candidates inside M instead, batched or one by one.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gamerl.algorithms.worldmodels.collect import make_env
from gamerl.algorithms.worldmodels.dream_env import BatchedDream, Inputs, controller_features, dream_returns
from gamerl.algorithms.worldmodels.mdn import load_mdn
from gamerl.algorithms.worldmodels.stages import read_manifest
from gamerl.algorithms.worldmodels.vae import load_vae
from gamerl.data.store import RolloutStore
from gamerl.envs.retro import set_level
from gamerl.envs.wrappers import resize_nearest
from gamerl.evolution.evaluators import Evaluator, RolloutResult, RolloutTask
from gamerl.models.controller import ControllerSpec, make_spec, to_env_action
from gamerl.models.mdn_rnn import MDNRNNCell
from gamerl.models.vae import ConvVAE, frames_to_input


class WorldModelAgent:
    """Encode the frame with V (z = μ), act with C on [z, h (, c)], then advance M with (z, action)."""

    def __init__(
        self,
        vae: ConvVAE,
        cell: MDNRNNCell,
        spec: ControllerSpec,
        params: np.ndarray,
        resolution: int,
        inputs: Inputs = "zh",
        reset_every: int = 0,
    ) -> None:
        self.vae, self.cell, self.spec, self.inputs = vae, cell, spec, inputs
        self.params = torch.as_tensor(params, dtype=torch.float32).view(1, -1)
        self.resolution, self.reset_every = resolution, reset_every
        self.reset()

    def reset(self) -> None:
        """Start an episode: M's state back to zeros."""
        self.state = self.cell.initial_state(1)
        self.t = 0

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> Any:
        """The env action for raw frame ``obs`` ``(H, W, 3)`` uint8."""
        if self.reset_every and self.t and self.t % self.reset_every == 0:
            self.state = self.cell.initial_state(1)
        frame = torch.from_numpy(resize_nearest(obs, self.resolution)[None])
        z, _ = self.vae.encode(frames_to_input(frame))
        action = self.spec.act(self.params, controller_features(z, self.state, self.inputs))
        _, self.state = self.cell(z, action, self.state)
        self.t += 1
        return to_env_action(self.spec, action[0].numpy())


@dataclasses.dataclass(frozen=True)
class WorldModel:
    """V and M of a run, with what C needs to know about them."""

    vae: ConvVAE
    cell: MDNRNNCell
    resolution: int
    frame_skip: int
    env_id: str


def _store_game(manifest: dict[str, Any]) -> str:
    """The game id recorded in the rollout store a run's manifest points at ("" for an empty store)."""
    episodes = RolloutStore.open(Path(manifest["store"])).episodes()
    return str(episodes[0].meta.get("game")) if episodes else ""


def run_game(run_dir: Path) -> tuple[str, int]:
    """(game id, frame skip) of the rollouts ``run_dir``'s V and M were trained on (no model is loaded)."""
    manifest = read_manifest(run_dir)
    return _store_game(manifest), int(manifest["frame_skip"])


def load_world_model(run_dir: Path) -> WorldModel:
    """V and M (as the single-step cell) of ``run_dir``, in eval mode, and the game they were trained on."""
    manifest = read_manifest(run_dir)
    cell = load_mdn(run_dir, cell=True)
    assert isinstance(cell, MDNRNNCell)
    return WorldModel(load_vae(run_dir), cell, manifest["resolution"], manifest["frame_skip"], _store_game(manifest))


def controller_spec(model: WorldModel, action_space: Any, inputs: Inputs, hidden_units: int) -> ControllerSpec:
    """C for ``model``'s latent and LSTM sizes and the game's ``action_space``."""
    features = model.cell.z_dim + model.cell.hidden * (2 if inputs == "zhc" else 1)
    return make_spec(action_space, features, hidden_units)


@dataclasses.dataclass(frozen=True)
class RealRollouts:
    """Worker factory: rollouts in the real game (picklable: only paths and settings cross processes)."""

    run_dir: Path
    env_id: str
    inputs: Inputs = "zh"
    hidden_units: int = 0
    reset_every: int = 0
    max_steps: int | None = None
    early_stop_window: int = 0
    early_stop_threshold: float = 10.0

    def __call__(self) -> RealRolloutWorker:
        """Load V and M and make the game (once per worker)."""
        return RealRolloutWorker(self)


class RealRolloutWorker:
    """Plays :class:`RolloutTask` s in one game instance."""

    def __init__(self, settings: RealRollouts) -> None:
        self.settings = settings
        self.model = load_world_model(settings.run_dir)
        self.env = make_env(settings.env_id, self.model.frame_skip)
        self.spec = controller_spec(self.model, self.env.action_space, settings.inputs, settings.hidden_units)

    def agent(self, params: np.ndarray) -> WorldModelAgent:
        """The agent with controller parameters ``params`` ``(D,)``."""
        m, s = self.model, self.settings
        return WorldModelAgent(m.vae, m.cell, self.spec, params, m.resolution, s.inputs, s.reset_every)

    def __call__(self, task: RolloutTask) -> RolloutResult:
        """Play one episode (or until ``max_steps`` / the early stop) and score it."""
        if task.level is not None:
            set_level(self.env, task.level)
        agent = self.agent(task.params)
        obs, _ = self.env.reset(seed=task.seed)
        window = deque(maxlen=self.settings.early_stop_window or 1)
        total, steps = 0.0, 0
        while True:
            obs, reward, terminated, truncated, _ = self.env.step(agent.act(obs))
            total += float(reward)
            steps += 1
            window.append(float(reward))
            early_stop = (
                self.settings.early_stop_window
                and len(window) == window.maxlen
                and sum(window) < self.settings.early_stop_threshold
            )
            if terminated or truncated or early_stop or steps == self.settings.max_steps:
                return RolloutResult(task.candidate, task.seed, task.level, total, steps)


class DreamEvaluator(Evaluator):
    """Score candidates inside M: every task in one :class:`BatchedDream` batch, or (``batched=False``) one
    dream at a time, the per-rollout loop of public implementations."""

    def __init__(self, dream: BatchedDream, spec: ControllerSpec, inputs: Inputs, batched: bool = True) -> None:
        super().__init__()
        self.dream, self.spec, self.inputs, self.batched = dream, spec, inputs, batched

    def evaluate(self, tasks: Sequence[RolloutTask]) -> list[RolloutResult]:
        """Dream every task (results in task order)."""
        groups = [list(tasks)] if self.batched else [[t] for t in tasks]
        results = []
        for group in groups:
            params = torch.as_tensor(np.stack([t.params for t in group]), dtype=torch.float32)
            totals, steps = dream_returns(self.dream, self.spec, params, [t.seed for t in group], self.inputs)
            results += [
                RolloutResult(t.candidate, t.seed, t.level, float(r), int(s))
                for t, r, s in zip(group, totals, steps, strict=True)
            ]
        return results
