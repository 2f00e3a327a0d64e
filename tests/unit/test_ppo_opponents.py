"""Derk's away teams: a pool of the run's latest snapshots, and a frozen checkpoint that must play Derk and
draws its samples from a stream of its own."""

from pathlib import Path

import numpy as np
import pytest
import torch

from gamerl.algorithms.ppo.acting import make_actor
from gamerl.algorithms.ppo.derk_agents import make_opponent
from gamerl.algorithms.ppo.heads import Head, env_values, heads_for_space
from gamerl.algorithms.ppo.opponents import CheckpointPool, opponent_rng
from gamerl.algorithms.ppo.session import build_model, load_model, model_payload, write_snapshot
from gamerl.algorithms.ppo.train import train_ppo
from gamerl.config.ppo import DERK_ENV_ID, PPOConfig
from gamerl.envs.derk import HEAD_NAMES, OBS_SIZE, action_space
from gamerl.errors import CheckpointError

DERK = PPOConfig(env_id=DERK_ENV_ID, policy_hidden=(8,), value_hidden=(8,))
DERK_HEADS = heads_for_space(action_space(), "binned", 9, HEAD_NAMES)


def _snapshot(run_dir: Path, update: int, obs_shape: tuple[int, ...], heads: list[Head]) -> Path:
    torch.manual_seed(update)
    return write_snapshot(run_dir, update, model_payload(build_model(DERK, obs_shape, heads), DERK))


def _assert_game_actions(actions: np.ndarray, rows: int) -> None:
    assert actions.shape == (rows, 5) and actions.dtype == np.float32
    assert np.all(np.abs(actions[:, :2]) <= 1) and np.all((actions[:, 2] >= 0) & (actions[:, 2] <= 1))
    assert set(np.unique(actions[:, 3])) <= {0, 1, 2, 3} and set(np.unique(actions[:, 4])) <= set(range(8))


def test_pool_plays_randomly_then_draws_from_the_latest_snapshots(tmp_path: Path) -> None:
    obs = np.random.default_rng(0).uniform(-1, 1, (6, OBS_SIZE)).astype(np.float32)
    pool = CheckpointPool(tmp_path, size=2, seed=0)
    pool.new_game()  # no snapshot yet: a random team
    assert pool.current.name == "random"
    _assert_game_actions(pool.act(obs), 6)
    for update in range(1, 5):
        _snapshot(tmp_path, update, (OBS_SIZE,), DERK_HEADS)
    drawn = set()
    for _ in range(20):
        pool.new_game()
        drawn.add(pool.current.name)
        _assert_game_actions(pool.act(obs), 6)
    assert drawn == {"model_000003", "model_000004"}


def test_frozen_opponent_must_be_a_derk_team(tmp_path: Path) -> None:
    cartpole = _snapshot(tmp_path / "cartpole", 1, (4,), [Head("a0", "categorical", 2)])
    config = PPOConfig(env_id=DERK_ENV_ID, opponent="checkpoint", opponent_checkpoint=cartpole)
    with pytest.raises(CheckpointError, match="is not a Derk team"):
        make_opponent(config, None, seed=0)
    derk = _snapshot(tmp_path / "derk", 1, (OBS_SIZE,), DERK_HEADS)
    opponent = make_opponent(PPOConfig(env_id=DERK_ENV_ID, opponent="checkpoint", opponent_checkpoint=derk), None, 0)
    _assert_game_actions(opponent.act(np.zeros((3, OBS_SIZE), np.float32)), 3)


def test_frozen_opponent_samples_its_model_on_a_stream_of_its_own(tmp_path: Path) -> None:
    """A frozen copy of the learner, seeded as the learner is, does not take the learner's own samples."""
    snapshot = _snapshot(tmp_path, 1, (OBS_SIZE,), DERK_HEADS)
    config = PPOConfig(env_id=DERK_ENV_ID, opponent="checkpoint", opponent_checkpoint=snapshot)
    obs = np.random.default_rng(0).uniform(-1, 1, (64, OBS_SIZE)).astype(np.float32)
    model = load_model(snapshot)[0]
    first = make_opponent(config, None, seed=7).act(obs)
    _assert_game_actions(first, 64)
    np.testing.assert_array_equal(first, make_opponent(config, None, seed=7).act(obs))  # seeded
    learner = env_values(make_actor(model, np.random.default_rng(7)).sample(obs)[0], model.heads)
    assert not np.array_equal(first, learner)
    ours = env_values(make_actor(model, opponent_rng(7)).sample(obs)[0], model.heads)
    np.testing.assert_array_equal(first, ours)  # the model's samples (make_actor's are tested to be)


def test_a_refused_opponent_leaves_no_run_directory_behind(tmp_path: Path) -> None:
    cartpole = _snapshot(tmp_path / "cartpole", 1, (4,), [Head("a0", "categorical", 2)])
    runs = tmp_path / "runs"
    config = PPOConfig(env_id=DERK_ENV_ID, opponent="checkpoint", opponent_checkpoint=cartpole, runs_dir=runs)
    for _ in range(2):  # the same command fails the same way again, not with "already holds a run"
        with pytest.raises(CheckpointError, match="is not a Derk team"):
            train_ppo(config)
        assert list(runs.iterdir()) == []
