"""Derk's per-game statistics, from scripted observations (the game itself is tested in integration)."""

import numpy as np
import pytest

from gamerl.algorithms.ppo.derk_agents import DerkAgents
from gamerl.algorithms.ppo.opponents import RandomTeam
from gamerl.envs.derk import (
    FIRST_ITEM_COLUMN,
    FRIEND_STATUE_DISTANCE,
    ITEM_COLUMNS,
    LOST_STATUE_DISTANCE,
    OBS_SIZE,
    POSITION_UP_DOWN,
    parse_team_items,
)


class ScriptedArena:
    """One arena whose home derklings walk from their own half into the enemy's, one step at a time
    (the away derklings read the same senses unless given distances to their statue of their own)."""

    n_arenas = 1

    def __init__(
        self, positions: list[float], distances: list[float], away_distances: list[float] | None = None
    ) -> None:
        self.positions, self.distances, self.t = positions, distances, 0
        self.away_distances = distances if away_distances is None else away_distances
        self.dead_reading: float | None = None

    def _obs(self) -> np.ndarray:
        obs = np.full((6, OBS_SIZE), 0.5, np.float32)  # every derkling alive (hitpoints 0.5)
        obs[:, POSITION_UP_DOWN] = self.positions[self.t - 1] if self.t else -0.1
        obs[:3, FRIEND_STATUE_DISTANCE] = self.distances[self.t - 1] if self.t else 0.3
        obs[3:, FRIEND_STATUE_DISTANCE] = self.away_distances[self.t - 1] if self.t else 0.3
        if self.dead_reading is not None and self.t == len(self.positions):  # a dead derkling's stale sense
            obs[2, 0], obs[2, FRIEND_STATUE_DISTANCE] = 0.0, self.dead_reading
        obs[:, FIRST_ITEM_COLUMN : FIRST_ITEM_COLUMN + len(ITEM_COLUMNS)] = 0.0
        for derkling, items in enumerate((["Pistol", "Shell"], ["VampireGland"], [], [], [], ["HealingGland"])):
            for item in items:
                obs[derkling, FIRST_ITEM_COLUMN + ITEM_COLUMNS.index(item)] = 1.0
        return obs

    def reset(self) -> np.ndarray:
        self.t = 0
        return self._obs()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, np.ndarray | None]:
        self.t += 1
        done = self.t == len(self.positions)
        stats = np.array([[13.0, 4.0, 1.0, 1.0, 1.0], [4.0, 13.0, 1.0, 1.0, 1.0]], np.float32) if done else None
        return self._obs(), np.ones(6, np.float32), done, stats

    def close(self) -> None:
        pass


def test_game_stats_say_where_the_team_stayed() -> None:
    arena = ScriptedArena(positions=[-0.2, -0.05, 0.3, 0.4], distances=[0.2, 0.4, 1.0, 1.0])
    agents = DerkAgents(arena, RandomTeam(0))  # type: ignore[arg-type]
    agents.reset()
    results = [agents.step(np.zeros((3, 5))) for _ in range(4)]
    assert [len(r.episodes) for r in results] == [0, 0, 0, 1]
    game = results[-1].episodes[0]
    assert game["home_half"] == pytest.approx(0.5)  # 2 of the 4 steps in their own half
    assert [game[f"home_half_slot{s}"] for s in range(3)] == pytest.approx([0.5, 0.5, 0.5])
    assert game["statue_distance"] == pytest.approx(0.65)
    assert game["win"] == 1.0 and game["return"] == 4.0
    # the items each team drew, read from the game's first observations, in --team-items form
    assert (game["items"], game["armed"], game["draw"]) == ("Pistol,Shell,;,,VampireGland;,,", 2.0, "ranged")
    assert (game["opponent_items"], game["opponent_armed"]) == (",,;,,;,,HealingGland", 0.0)
    assert parse_team_items(str(game["items"])) == [
        {"slots": ["Pistol", "Shell", None]},
        {"slots": [None, None, "VampireGland"]},
        {"slots": [None, None, None]},
    ]
    agents.reset()  # a new game starts its counts afresh
    again = [agents.step(np.zeros((3, 5))) for _ in range(4)][-1].episodes[0]
    assert (again["home_half"], again["statue_distance"]) == pytest.approx((0.5, 0.65))
    assert (game["statue_lost"], game["opponent_statue_lost"]) == (0.0, 0.0)
    assert (game["statue_standing"], game["opponent_statue_standing"]) == (1.0, 1.0)


def test_a_destroyed_statue_is_lost_not_far() -> None:
    """The statue sense reads 2.0 once the statue is destroyed: that game counts it lost, and its distance
    averages the steps while it stood (the readings of 2.0 had counted as distance)."""
    lost = [0.2, 0.4, 1.0, LOST_STATUE_DISTANCE]  # destroyed at the last of 4 steps
    arena = ScriptedArena(positions=[-0.2, -0.05, 0.3, 0.4], distances=lost, away_distances=[0.3] * 4)
    agents = DerkAgents(arena, RandomTeam(0))  # type: ignore[arg-type]
    agents.reset()
    game = [agents.step(np.zeros((3, 5))) for _ in range(4)][-1].episodes[0]
    assert game["statue_distance"] == pytest.approx((0.2 + 0.4 + 1.0) / 3)
    assert (game["statue_lost"], game["opponent_statue_lost"]) == (1.0, 0.0)
    assert (game["statue_standing"], game["opponent_statue_standing"]) == (0.75, 1.0)
    arena.distances, arena.away_distances = arena.away_distances, lost  # now the away team's statue falls
    agents.reset()
    game = [agents.step(np.zeros((3, 5))) for _ in range(4)][-1].episodes[0]
    assert (game["statue_distance"], game["statue_lost"], game["opponent_statue_lost"]) == pytest.approx((0.3, 0, 1))
    arena.distances, arena.away_distances, arena.dead_reading = lost, [0.3] * 4, 0.5
    agents.reset()  # the statue falls as a derkling dies whose sense still reads a distance: not counted
    game = [agents.step(np.zeros((3, 5))) for _ in range(4)][-1].episodes[0]
    assert (game["statue_distance"], game["statue_standing"], game["deaths"]) == pytest.approx((1.6 / 3, 0.75, 1))
