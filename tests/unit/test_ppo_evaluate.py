"""Evaluation summaries (a Derk summary once lost its mean return)."""

import pytest

from gamerl.algorithms.ppo.evaluate import summarize_games


def test_derk_summary_has_win_rate_and_mean_return() -> None:
    games = [
        {"return": 3.0, "win": 1.0, "tie": 0.0, "score": 13.0, "opponent_score": 0.0, "kills": 1.0, "deaths": 0.0},
        {"return": 1.0, "win": 0.0, "tie": 1.0, "score": 0.0, "opponent_score": 0.0, "kills": 0.0, "deaths": 2.0},
    ]
    for game, home_half in zip(games, (0.2, 0.6), strict=True):
        game.update(home_half=home_half, statue_distance=2 * home_half)
    summary = summarize_games(games, derk=True)
    assert summary == pytest.approx(
        {
            "episodes": 2,
            "mean_return": 2.0,
            "std_return": 1.0,
            "win_rate": 0.5,
            "tie_rate": 0.5,
            "mean_score": 6.5,
            "mean_opponent_score": 0.0,
            "mean_kills": 0.5,
            "mean_deaths": 1.0,
            "mean_home_half": 0.4,
            "mean_statue_distance": 0.8,
        }
    )


def test_gym_summary_is_return_only() -> None:
    assert summarize_games([{"return": 10.0, "length": 10.0}], derk=False) == {
        "episodes": 1.0,
        "mean_return": 10.0,
        "std_return": 0.0,
    }
