from pathlib import Path

import pytest

from gamerl.config.base import config_from_dict, config_to_dict
from gamerl.config.pg import PRESETS, PGConfig
from gamerl.errors import ConfigError


@pytest.mark.parametrize(
    "field, value",
    [
        ("gamma", 1.5),
        ("learning_rate", 0.0),
        ("num_envs", 0),
        ("batch_episodes", 0),
        ("episodes", -3),
        ("frame_skip", 0),
        ("checkpoint_every", 0),
        ("repeat_action_probability", 1.0),
        ("max_minutes", -1.0),
    ],
)
def test_invalid_value_is_a_one_line_config_error(field, value):
    with pytest.raises(ConfigError) as info:
        PGConfig(**{field: value})
    message = str(info.value)
    assert field in message and "\n" not in message


def test_cem_needs_a_population():
    with pytest.raises(ConfigError, match="population"):
        PGConfig(method="cem", num_envs=1)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_config_round_trips_through_json_dict(preset):
    config = PRESETS[preset][1]
    data = config_to_dict(config)
    assert isinstance(data["runs_dir"], str)
    rebuilt = config_from_dict(PGConfig, data)
    assert rebuilt == config and isinstance(rebuilt.runs_dir, Path)


def test_unknown_key_is_refused():
    data = config_to_dict(PGConfig())
    data["latent_size"] = 32
    with pytest.raises(ConfigError, match="latent_size"):
        config_from_dict(PGConfig, data)
