"""PPO on Atari Pong through ale_py.AtariVectorEnv: convolutional policy and value nets, a tiny real run, games
stepped in two groups while the rollout acts."""

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from gamerl.algorithms.ppo.acting import Acting
from gamerl.algorithms.ppo.agent_env import AgentGroups, AtariAgents, atari_agents
from gamerl.algorithms.ppo.evaluate import record_ppo
from gamerl.algorithms.ppo.rollout import Rollout, collect_rollout
from gamerl.algorithms.ppo.session import load_model
from gamerl.algorithms.ppo.train import train_ppo
from gamerl.config.ppo import PRESETS


def test_tiny_ppo_run_on_pong_and_its_video(tmp_path: Path) -> None:
    config = dataclasses.replace(
        PRESETS["atari"][1],  # one Nature CNN feeding linear policy and value heads
        num_envs=2,
        num_steps=8,
        updates=2,
        epochs=1,
        minibatches=2,
        runs_dir=tmp_path,
        run_name="pong",
        progress=False,
    )
    run_dir = train_ppo(config)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [16, 32]
    assert 0 < records[-1]["train/entropy/a0"] <= 1.7918  # log 6: Pong's 6 actions
    model, _ = load_model(run_dir)
    assert model.obs_shape == (4, 84, 84) and model.policy[-1].in_features == 512
    with Image.open(record_ppo(run_dir, tmp_path / "pong.gif", max_steps=5, fps=10)) as gif:
        # Pillow merges a repeated frame into the one before it, adding up their durations
        durations = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
        assert gif.size == (252, 252) and sum(durations) == 5 * 100


def test_atari_frames_travel_as_uint8() -> None:
    env = AtariAgents("ALE/Pong-v5", 2, seed=0)
    try:
        first = env.reset()
        step = env.step(np.zeros((2, 1), np.float32))
    finally:
        env.close()
    assert first.dtype == step.obs.dtype == np.uint8 and first.shape == step.obs.shape == (2, 4 * 84 * 84)
    assert first.max() > 0  # real frames


class _FrameActor:
    """Acts by a fixed function of each row's frames, so a row acts alike however the rows are split;
    notes the torch threads it was given."""

    def __init__(self) -> None:
        self.threads: set[int] = set()

    def act(self, obs: np.ndarray) -> Acting:
        self.threads.add(torch.get_num_threads())
        return Acting(*self.sample(obs), self.state_value(obs))

    def sample(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        actions = obs[:, ::97].astype(np.int64).sum(1) % 6
        return actions[:, None].astype(np.float32), -actions.astype(np.float32)

    def state_value(self, obs: np.ndarray) -> np.ndarray:
        return obs.mean(1, dtype=np.float32)


def _stepped_one_by_one(steps: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The reference: act on all 5 games, step them, and again, by hand."""
    env, actor = AtariAgents("ALE/Pong-v5", 5, seed=3), _FrameActor()
    fields: dict[str, list[np.ndarray]] = {"obs": [], "actions": [], "rewards": [], "dones": []}
    try:
        obs = env.reset()
        for _ in range(steps):
            actions = actor.act(obs).actions
            result = env.step(actions)
            for name, value in zip(fields, (obs, actions, result.rewards, result.dones), strict=True):
                fields[name].append(value)
            obs = result.obs
    finally:
        env.close()
    return {name: np.stack(values) for name, values in fields.items()}, obs


@pytest.mark.parametrize("grouped", [True, False])
def test_a_rollout_fills_the_steps_of_the_games_in_order(grouped: bool) -> None:
    """A rollout, pipelined over two groups (one acted on while the other steps) or not, fills its buffers
    with what stepping the same games one step after another gives; so does stepping the groups at once."""
    expected, expected_after = _stepped_one_by_one(61)
    env = atari_agents("ALE/Pong-v5", 5, seed=3) if grouped else AtariAgents("ALE/Pong-v5", 5, seed=3)
    assert isinstance(env, AgentGroups) == grouped
    buffers, actor, threads = Rollout.empty(60, env, np.uint8), _FrameActor(), torch.get_num_threads()
    try:
        if grouped:
            assert [g.num_agents for g in env.groups] == [2, 3]
        torch.set_num_threads(2)
        last, _ = collect_rollout(env, actor, env.reset(), buffers, 0.99)
        assert torch.get_num_threads() == 2  # given back after the rollout
        after = env.step(_FrameActor().act(last).actions).obs  # all groups at once
    finally:
        torch.set_num_threads(threads)
        env.close()
    assert actor.threads == ({1} if grouped else {2})  # acting leaves the other cores to the games
    assert len(np.unique(expected["actions"])) > 1 and (expected["obs"][-1] != expected["obs"][0]).any()
    for name, values in expected.items():
        assert np.array_equal(getattr(buffers, name), values[:60]), name
    assert np.array_equal(last, expected["obs"][60]) and np.array_equal(after, expected_after)


def _threads() -> set[int]:
    return {int(tid) for tid in os.listdir("/proc/self/task")}


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores and affinities"
)
def test_grouped_games_step_off_the_learners_core() -> None:
    cores = os.sched_getaffinity(0)
    before = _threads()
    env = atari_agents("ALE/Pong-v5", 4, seed=0)
    try:
        games = _threads() - before
        assert games  # ALE's threads start with the env
        assert {frozenset(os.sched_getaffinity(tid)) for tid in games} == {frozenset(cores - {min(cores)})}
        assert os.sched_getaffinity(0) == cores  # the learner's thread keeps all its cores
    finally:
        env.close()


def test_games_start_where_affinities_cannot_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(pid: int, cores: set[int]) -> None:
        raise PermissionError("not in this sandbox")

    monkeypatch.setattr(os, "sched_setaffinity", forbidden)
    env = atari_agents("ALE/Pong-v5", 2, seed=0)
    try:
        assert isinstance(env, AgentGroups) and env.reset().shape == (2, 4 * 84 * 84)
    finally:
        env.close()
