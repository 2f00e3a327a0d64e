"""Derk settings that need no browser: reward presets and TOML files, items, missing programs."""

from pathlib import Path

import pytest

from gamerl.envs import derk
from gamerl.envs.derk_rewards import FIELDS, load_reward
from gamerl.errors import ConfigError, DependencyError

OFFENSIVE = {
    "damageEnemyStatue": 10,
    "damageEnemyUnit": 5,
    "killEnemyStatue": 30,
    "killEnemyUnit": 15,
    "healFriendlyStatue": 0.5,
    "healTeammate1": 0.5,
    "healTeammate2": 0.5,
    "timeSpentHomeBase": 0,
    "timeSpentHomeTerritory": 0,
    "timeSpentAwayTerritory": 0,
    "timeSpentAwayBase": 0,
    "damageTaken": 0,
    "friendlyFire": -5,
    "healEnemy": -2.0,
    "fallDamageTaken": -100,
    "statueDamageTaken": 0,
    "manualBonus": 0,
    "victory": 5,
    "loss": -5,
    "tie": -1,
    "teamSpirit": 0.0,
    "timeScaling": 1.0,
}
DEFENSIVE = {
    "damageEnemyStatue": 0.9,
    "damageEnemyUnit": 0.5,
    "killEnemyStatue": 3,
    "killEnemyUnit": 2,
    "healFriendlyStatue": 10,
    "healTeammate1": 6,
    "healTeammate2": 6,
    "timeSpentHomeBase": 3,
    "timeSpentHomeTerritory": 1,
    "timeSpentAwayTerritory": 0,
    "timeSpentAwayBase": 0,
    "damageTaken": -1.5,
    "friendlyFire": -5,
    "healEnemy": -6.0,
    "fallDamageTaken": -100,
    "statueDamageTaken": -10,
    "manualBonus": 0,
    "victory": 5,
    "loss": -5,
    "tie": -1,
    "teamSpirit": 0.0,
    "timeScaling": 1.0,
}


@pytest.mark.parametrize(("name", "expected"), [("offensive", OFFENSIVE), ("defensive", DEFENSIVE)])
def test_presets_hold_the_reports_exact_values(name: str, expected: dict[str, float]) -> None:
    assert load_reward(name) == expected
    assert set(expected) == set(FIELDS)


def test_reward_toml_file_and_its_errors(tmp_path: Path) -> None:
    good = tmp_path / "mine.toml"
    good.write_text("[reward]\ntimeSpentHomeBase = 2\nvictory = 10\n")
    assert load_reward(good) == {"timeSpentHomeBase": 2.0, "victory": 10.0}
    bad = tmp_path / "bad.toml"
    bad.write_text("[reward]\nkillEnemyStatu = 2\n")
    with pytest.raises(ConfigError, match="unknown reward fields \\['killEnemyStatu'\\]"):
        load_reward(bad)
    bad.write_text("victory = 1\n")
    with pytest.raises(ConfigError, match="no \\[reward\\] table"):
        load_reward(bad)
    with pytest.raises(ConfigError, match="neither a preset"):
        load_reward("agressive")


def test_team_items() -> None:
    assert derk.parse_team_items(None) is None
    assert derk.parse_team_items("random") is None
    team = derk.parse_team_items("Pistol,FrogLegs,;Talons,,;,,HealingGland")
    assert team == [
        {"slots": ["Pistol", "FrogLegs", None]},
        {"slots": ["Talons", None, None]},
        {"slots": [None, None, "HealingGland"]},
    ]
    with pytest.raises(ConfigError, match="not one of the misc items: choose from"):
        derk.parse_team_items("Pistol,Talons,;,,;,,")
    with pytest.raises(ConfigError, match="needs 3 derklings"):
        derk.parse_team_items("Pistol,,")
    with pytest.raises(ConfigError, match="^opponent_items needs 3 derklings"):
        derk.parse_team_items("Pistol,,;Talons", "opponent_items")


def test_draws_are_sorted_by_what_the_team_can_hurt_with() -> None:
    assert derk.draw_kind("Talons,,;,,VampireGland;Blaster,Shell,") == "ranged"
    assert derk.draw_kind("Cripplers,,;,,VampireGland;,,") == "melee"
    assert derk.draw_kind(",FrogLegs,VampireGland;,,;,,") == "drain"
    assert derk.draw_kind(",Trombone,ParalyzingDart;,Shell,HealingGland;,,") == "unarmed"
    assert derk.armed_derklings(",Trombone,ParalyzingDart;Talons,,;,,VampireGland") == 2


def test_missing_chromium_or_worker_python_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(derk.shutil, "which", lambda name: None)
    with pytest.raises(DependencyError, match="apt-get install -y chromium xvfb") as err:
        derk.check_system_programs()
    assert "\n" not in str(err.value)
    monkeypatch.setenv("GAMERL_DERK_PYTHON", "/nonexistent/python")
    with pytest.raises(DependencyError, match="scripts/setup.sh"):
        derk.derk_python()


def test_a_missing_worker_python_leaves_nothing_in_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GAMERL_CACHE", str(tmp_path))
    monkeypatch.setenv("GAMERL_DERK_PYTHON", str(tmp_path / "nonexistent" / "python"))
    with pytest.raises(DependencyError, match="scripts/setup.sh"):
        derk.DerkProcess({}, timeout=1.0)
    assert list(tmp_path.rglob("*")) == [derk.cache_dir()]  # not a worker log or browser profile per try


def test_rows_are_side_first() -> None:
    assert [derk.row(2, a, t, s) for t in (0, 1) for a in (0, 1) for s in range(3)] == list(range(12))


def test_webgl_auto_is_llvmpipe_only_where_mesas_egl_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    found: dict[str, str | None] = {"EGL_mesa": "libEGL_mesa.so.0"}
    monkeypatch.setattr(derk.ctypes.util, "find_library", lambda name: found.get(name))
    assert derk.resolve_webgl("auto") == "llvmpipe"
    found.clear()
    assert derk.resolve_webgl("auto") == "swiftshader"
    with pytest.raises(DependencyError, match="llvmpipe needs Mesa's EGL, which is not installed: apt-get install"):
        derk.resolve_webgl("llvmpipe")
    assert derk.resolve_webgl("swiftshader") == "swiftshader"
    with pytest.raises(ConfigError, match="webgl must be one of auto, llvmpipe, swiftshader, got 'gpu'"):
        derk.DerkSettings(webgl="gpu")
