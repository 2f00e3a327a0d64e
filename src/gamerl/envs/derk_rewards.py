"""Derk's reward functions: the game's fields read from TOML, and the report's presets."""

from __future__ import annotations

from pathlib import Path

import tomllib

from gamerl.errors import ConfigError

PRESET_DIR = Path(__file__).parent / "derk_rewards"
FIELDS = (
    "damageEnemyStatue",
    "damageEnemyUnit",
    "killEnemyStatue",
    "killEnemyUnit",
    "healFriendlyStatue",
    "healTeammate1",
    "healTeammate2",
    "timeSpentHomeBase",
    "timeSpentHomeTerritory",
    "timeSpentAwayTerritory",
    "timeSpentAwayBase",
    "damageTaken",
    "friendlyFire",
    "healEnemy",
    "fallDamageTaken",
    "statueDamageTaken",
    "manualBonus",
    "victory",
    "loss",
    "tie",
    "teamSpirit",
    "timeScaling",
)
"""the reward ("bounty") fields of Dr. Derk's Mutant Battlegrounds, as gym-derk 1.1.1's app defines them"""


def presets() -> list[str]:
    """Names of the shipped presets (``offensive``, ``defensive``, ``score``)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_reward(name_or_path: str | Path) -> dict[str, float]:
    """A reward function: a preset name or a TOML file with a ``[reward]`` table of the game's fields.

    Fields left out keep the game's defaults. Unknown fields and non-numbers are one-line errors.
    """
    path = Path(name_or_path)
    if not path.suffix and str(name_or_path) in presets():
        path = PRESET_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise ConfigError(
            f"reward '{name_or_path}' is neither a preset ({', '.join(presets())}) nor a TOML file: "
            "pass --reward offensive"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML ({err}): fix the file") from None
    table = data.get("reward")
    if not isinstance(table, dict):
        raise ConfigError(f"{path} has no [reward] table: put the fields under [reward]")
    unknown = sorted(set(table) - set(FIELDS))
    if unknown:
        raise ConfigError(f"{path}: unknown reward fields {unknown}; the game's fields are {', '.join(FIELDS)}")
    bad = [k for k, v in table.items() if isinstance(v, bool) or not isinstance(v, int | float)]
    if bad:
        raise ConfigError(f"{path}: reward fields {bad} must be numbers")
    return {k: float(v) for k, v in table.items()}
