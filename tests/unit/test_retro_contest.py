"""Retro Contest scoring on hand-made traces, the budget loop on a scripted env, the per-level table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from gamerl.envs.wrappers import StickyFrameSkip
from gamerl.errors import ConfigError
from gamerl.evaluation.retro_contest import (
    ContestReport,
    Episode,
    LevelResult,
    baseline_policy,
    completion_bonus,
    episode_score,
    max_episode_steps,
    play_level,
)

SONIC = "SonicTheHedgehog-Genesis-v0"
AIRSTRIKER = "Airstriker-Genesis-v0"
LIMIT = 4_500
END_X = 0x1F60
"""GreenHillZone.Act2's end in the contest script"""


def contest_rewards(xs: list[float], end_x: float = END_X, limit: int = LIMIT) -> list[float]:
    """Per-step rewards of stable-retro's Sonic ``contest`` scenario (its ``script.lua``) for the positions
    ``xs`` after each step, starting at 0: 9000 × Δprogress, plus the bonus on the step the end is reached."""
    rewards, previous = [], 0.0
    for step, x in enumerate(xs, start=1):
        progress = min(max(x, 0.0), end_x) / end_x
        reward = (progress - previous) * 9000
        if progress >= 1:
            reward += (1 - min(step / limit, 1)) * 1000
        rewards.append(reward)
        previous = progress
    return rewards


def test_completion_bonus_decays_linearly_to_zero_at_the_limit() -> None:
    assert completion_bonus(0, LIMIT) == 1000
    assert completion_bonus(2250, LIMIT) == pytest.approx(500)
    assert completion_bonus(4500, LIMIT) == 0
    assert completion_bonus(6000, LIMIT) == 0
    assert max_episode_steps(4) == 4500 and max_episode_steps(1) == 18_000


def test_unfinished_level_scores_its_progress() -> None:
    xs = list(np.linspace(0, 0.3 * END_X, 700))
    assert episode_score(SONIC, contest_rewards(xs), LIMIT) == pytest.approx(2700)


def test_fast_finish_adds_the_decayed_bonus() -> None:
    xs = list(np.linspace(0, END_X, 1501)[1:])
    rewards = contest_rewards(xs)
    assert len(rewards) == 1500
    assert episode_score(SONIC, rewards, LIMIT) == pytest.approx(9000 + 1000 * (1 - 1500 / 4500))
    assert episode_score(SONIC, rewards, LIMIT) == pytest.approx(sum(rewards))


def test_finish_at_the_step_limit_has_no_bonus() -> None:
    xs = list(np.linspace(0, END_X, LIMIT + 1)[1:])
    rewards = contest_rewards(xs)
    assert len(rewards) == LIMIT
    assert episode_score(SONIC, rewards, LIMIT) == pytest.approx(9000)


def test_going_back_loses_progress_and_behind_the_start_counts_zero() -> None:
    forward = list(np.linspace(0, 0.5 * END_X, 200))
    back = list(np.linspace(0.5 * END_X, 0.2 * END_X, 100))
    assert episode_score(SONIC, contest_rewards(forward + back), LIMIT) == pytest.approx(1800)
    behind = list(np.linspace(0, -500, 50))
    assert episode_score(SONIC, contest_rewards(forward + behind), LIMIT) == pytest.approx(0)


def test_airstriker_scores_steps_survived() -> None:
    assert episode_score(AIRSTRIKER, [10.0] * 300, LIMIT) == pytest.approx(600)
    assert episode_score(AIRSTRIKER, [0.0] * LIMIT, LIMIT) == pytest.approx(9000)
    with pytest.raises(ConfigError):
        episode_score(AIRSTRIKER, [], LIMIT)


class ScriptedEnv(gym.Env[np.ndarray, np.ndarray]):
    """Episodes of the given lengths, 100 reward a step, the last step of each terminal."""

    observation_space = spaces.Box(0, 255, (2, 2, 3), np.uint8)
    action_space = spaces.MultiBinary(4)

    def __init__(self, lengths: list[int]) -> None:
        self.lengths, self.resets, self.t = lengths, 0, 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        self.resets += 1
        self.t = 0
        return np.zeros((2, 2, 3), np.uint8), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        return np.zeros((2, 2, 3), np.uint8), 100.0, self.t == self.lengths[self.resets - 1], False, {}


class CountingPolicy:
    """Presses RIGHT; counts resets and observed rewards."""

    def __init__(self) -> None:
        self.resets, self.observed = 0, 0

    def reset(self) -> None:
        self.resets += 1

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.array([0, 1, 0, 0], np.int8)

    def observe(self, reward: float) -> None:
        self.observed += 1


def test_budget_cuts_the_last_episode_which_does_not_count() -> None:
    env, policy = ScriptedEnv([3, 5, 4, 4]), CountingPolicy()
    steps: list[None] = []
    result = play_level(env, SONIC, "GreenHillZone.Act2", policy, 10, LIMIT, lambda: steps.append(None))
    assert [e.length for e in result.episodes] == [3, 5]
    assert result.cut == Episode(score=200.0, length=2, ret=200.0)
    assert result.mean == pytest.approx(400) and result.std == pytest.approx(100)
    assert not result.partial
    assert len(steps) == 10 and policy.observed == 10
    assert env.resets == 3 and policy.resets == 3


def test_budget_ending_with_an_episode_leaves_no_cut_and_no_extra_reset() -> None:
    env, policy = ScriptedEnv([3, 5, 4]), CountingPolicy()
    result = play_level(env, SONIC, "GreenHillZone.Act2", policy, 8, LIMIT, lambda: None)
    assert [e.score for e in result.episodes] == [300.0, 500.0] and result.cut is None
    assert env.resets == 2 and policy.resets == 2


def test_a_budget_shorter_than_the_first_episode_is_scored_by_the_partial_one() -> None:
    result = play_level(ScriptedEnv([50]), SONIC, "GreenHillZone.Act2", CountingPolicy(), 20, LIMIT, lambda: None)
    assert result.partial and result.episodes == ()
    assert result.mean == pytest.approx(2000) and result.std == 0


def test_report_table_and_mean_over_levels(tmp_path: Path) -> None:
    a = LevelResult(SONIC, "GreenHillZone.Act2", 9000, (Episode(1000, 10, 1000), Episode(3000, 30, 3000)), None)
    b = LevelResult(SONIC, "SpringYardZone.Act1", 9000, (Episode(500, 5, 500),), Episode(100, 1, 100))
    c = LevelResult(AIRSTRIKER, "Level1", 300, (), Episode(600, 300, 40))
    report = ContestReport((a, b, c), 9000, 4, 0.25, 0)
    assert report.mean == pytest.approx((2000 + 500 + 600) / 3)
    lines = report.table().splitlines()
    assert lines[0].split() == ["game", "level", "episodes", "mean", "score", "std"]
    assert lines[2].split() == [SONIC, "GreenHillZone.Act2", "2", "2,000.0", "1,000.0"]
    assert lines[4].split() == [AIRSTRIKER, "Level1", "0", "(partial)", "600.0", "0.0"]
    assert lines[-1].split() == ["mean", "3", "levels", "1,033.3"]
    saved = json.loads(report.save(tmp_path / "contest.json").read_text())
    assert saved == report.to_dict()
    assert saved["levels"][1]["episodes"] == 1 and saved["levels"][1]["cut_episode"]["score"] == 100
    assert saved["max_episode_steps"] == 4500
    assert list(tmp_path.iterdir()) == [tmp_path / "contest.json"]
    with pytest.raises(ConfigError):
        LevelResult(SONIC, "GreenHillZone.Act2", 0, (), None)


class RecordingEnv(gym.Env[int, Any]):
    """Records the action of every frame."""

    observation_space = spaces.Discrete(1)
    action_space = spaces.Discrete(10)

    def __init__(self) -> None:
        self.frames: list[int] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict]:
        return 0, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        self.frames.append(action)
        return 0, 1.0, False, False, {}


@pytest.mark.parametrize(("sticky_prob", "expected"), [(0.0, [1] * 4 + [2] * 4), (1.0, [1] * 4 + [1, 2, 2, 2])])
def test_sticky_frame_skip_delays_the_new_action_by_one_frame(sticky_prob: float, expected: list[int]) -> None:
    inner = RecordingEnv()
    env = StickyFrameSkip(inner, 4, sticky_prob, np.random.default_rng(0))
    env.reset()
    assert env.step(1)[1] == 4.0
    env.step(2)
    assert inner.frames == expected
    env.reset()
    env.step(3)
    assert inner.frames[-4:] == [3] * 4
    with pytest.raises(ConfigError):
        StickyFrameSkip(inner, 0, 0.25, np.random.default_rng(0))


@pytest.mark.parametrize("name", ["random", "jerk"])
def test_baselines_press_sonic_buttons_reproducibly(name: str) -> None:
    def actions() -> list[list[int]]:
        policy = baseline_policy(name, seed=3)()
        policy.reset()
        return [policy.act(np.zeros((224, 320, 3), np.uint8)).tolist() for _ in range(20)]

    first = actions()
    assert first == actions()
    assert all(len(a) == 4 and set(a) <= {0, 1} for a in first)
    with pytest.raises(ConfigError, match="random, jerk"):
        baseline_policy("ppo")
