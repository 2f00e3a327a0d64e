"""Evaluation summaries (a Derk summary once lost its mean return)."""

from pathlib import Path
from typing import Any

import pytest

from gamerl.algorithms.ppo.cli import play_command
from gamerl.algorithms.ppo.evaluate import derk_match, items_label, summarize_games
from gamerl.config.ppo import DERK_ENV_ID, PPOConfig
from gamerl.errors import GamerlError


def test_derk_summary_has_win_rate_and_mean_return() -> None:
    games: list[dict[str, Any]] = [
        {"return": 3.0, "win": 1.0, "tie": 0.0, "score": 13.0, "opponent_score": 0.0, "kills": 1.0, "deaths": 0.0},
        {"return": 1.0, "win": 0.0, "tie": 1.0, "score": 0.0, "opponent_score": 0.0, "kills": 0.0, "deaths": 2.0},
    ]
    for game, home_half, draw in zip(games, (0.2, 0.6), ("melee", "unarmed"), strict=True):
        game.update(home_half=home_half, statue_distance=2 * home_half, draw=draw)
        game.update({f"home_half_slot{s}": home_half * s for s in range(3)})
        game.update(statue_lost=float(home_half > 0.5), opponent_statue_lost=game["win"])
        game.update(statue_standing=1 - home_half, opponent_statue_standing=1 - game["win"] / 2)
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
            "mean_home_half_slot0": 0.0,
            "mean_home_half_slot1": 0.4,
            "mean_home_half_slot2": 0.8,
            "mean_statue_distance": 0.8,
            "statue_lost_rate": 0.5,
            "opponent_statue_lost_rate": 0.5,
            "mean_statue_standing": 0.6,
            "mean_opponent_statue_standing": 0.75,
            "unarmed_share": 0.5,
            "win_rate_armed": 1.0,
            "win_rate_melee": 1.0,
            "win_rate_unarmed": 0.0,
        }
    )
    # no unarmed game, no win rate for them (rather than a NaN in the results file)
    assert "win_rate_unarmed" not in summarize_games(games[:1], derk=True)


def test_gym_summary_is_return_only() -> None:
    assert summarize_games([{"return": 10.0, "length": 10.0}], derk=False) == {
        "episodes": 1.0,
        "mean_return": 10.0,
        "std_return": 0.0,
    }


def test_results_file_names_tell_the_items_apart() -> None:
    loadout = "Pistol,,;Talons,,;Blaster,,"
    assert items_label(None, None) == items_label("random", None) == items_label("random", "random") == ""
    assert items_label(loadout, None) == items_label(loadout, loadout) == "_fixed_items"
    assert items_label(loadout, "random") == "_fixed_items_opponent_random_items"
    assert items_label(None, loadout) == "_opponent_fixed_items"


def test_derk_match_sets_the_opponent_and_replaces_only_the_items_given(tmp_path: Path) -> None:
    run = PPOConfig(env_id=DERK_ENV_ID, team_items="Pistol,,;Talons,,;Blaster,,", opponent_items="random")
    frozen = derk_match(run, "checkpoint", tmp_path / "frozen.pt", opponent_items="Pistol,,;Talons,,;Blaster,,")
    assert (frozen.opponent, frozen.opponent_checkpoint) == ("checkpoint", tmp_path / "frozen.pt")
    assert frozen.team_items == frozen.opponent_items == "Pistol,,;Talons,,;Blaster,,"
    random = derk_match(frozen)  # a random team again; the items stay as they were
    assert (random.opponent, random.opponent_checkpoint, random.opponent_items) == (
        "random",
        None,
        frozen.opponent_items,
    )
    assert random.derk_webgl == "auto"  # the run's backend unless one is given
    assert derk_match(random, derk_webgl="swiftshader").derk_webgl == "swiftshader"


def test_play_against_a_checkpoint_needs_one(tmp_path: Path) -> None:
    with pytest.raises(GamerlError, match="pass --opponent-checkpoint RUN_DIR"):
        play_command([str(tmp_path), "--opponent", "checkpoint"])
