import dataclasses
from pathlib import Path

import pytest

from gamerl.config.base import config_from_dict, config_to_dict, field_check
from gamerl.config.pg import PRESETS, PGConfig
from gamerl.config.ppo import PPOConfig
from gamerl.config.worldmodels import CollectConfig, ControllerConfig, MDNConfig, VAEConfig
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


@dataclasses.dataclass
class _OneField:
    x: float = 0.5


@pytest.mark.parametrize(
    "rule, value, ok",
    [
        (">= 1", 1, True),
        (">= 1", 0, False),
        ("> 0", 1e-9, True),
        ("> 0", 0.0, False),
        ("in [0, 1]", 0.0, True),
        ("in [0, 1]", 1.0, True),
        ("in [0, 1]", 1.01, False),
        ("in (0, 1]", 0.0, False),
        ("in (0, 1]", 1.0, True),
        ("in [0, 1)", 1.0, False),
        ("in (0, 1)", 0.5, True),
        ("in (0, 1)", -0.5, False),
        ("> 0", float("inf"), False),  # a budget of inf minutes broke the progress bar's time left
        ("in [0, 1]", float("nan"), False),
    ],
)
def test_field_check_applies_the_rule_it_names(rule, value, ok):
    assert field_check(_OneField(value), "x", rule)[0] is ok


def test_field_check_message_names_the_flag_and_a_fix():
    with pytest.raises(ConfigError) as info:
        PPOConfig(gae_lambda=2.0)
    assert str(info.value) == "gae_lambda must be in [0, 1], got 2.0: pass --gae-lambda 0.95"
    with pytest.raises(ConfigError) as info:
        PPOConfig(max_minutes=0.0)
    assert str(info.value) == "max_minutes must be > 0, got 0.0: pass --max-minutes 60 or leave it out"


@pytest.mark.parametrize(
    "make, field, bad",
    [
        (PGConfig, "rmsprop_decay", 1.0),
        (PGConfig, "cem_extra_std", -0.1),
        (PPOConfig, "gae_lambda", 1.5),
        (PPOConfig, "value_lr", 0.0),
        (PPOConfig, "derk_timeout_s", 0.0),
        (PPOConfig, "max_minutes", -1.0),
        (PPOConfig, "max_minutes", float("inf")),
        (PGConfig, "seed", -1),
        (VAEConfig, "seed", -1),
        (lambda **kw: CollectConfig(store=Path("s"), **kw), "stickiness", 1.0),
        (lambda **kw: CollectConfig(store=Path("s"), **kw), "chunk_steps", 0),
        (VAEConfig, "z_dim", 0),
        (VAEConfig, "learning_rate", 0.0),
        (MDNConfig, "embed", -1),
        (MDNConfig, "gaussians", 0),
        (MDNConfig, "torch_threads", 0),
        (ControllerConfig, "temperature", 0.0),
        (ControllerConfig, "max_steps", 0),
        (ControllerConfig, "task_timeout_s", -1.0),
    ],
)
def test_a_bad_value_names_a_value_that_works(make, field, bad):
    """Every bound error ends with the flag to pass and a value, and that value is accepted."""
    with pytest.raises(ConfigError) as info:
        make(**{field: bad})
    message = str(info.value)
    flag = "--" + field.replace("_", "-")
    assert message.startswith(f"{field} must be ") and f": pass {flag} " in message
    suggested = message.split(f"pass {flag} ")[1].split(" ")[0]
    make(**{field: type(bad)(float(suggested)) if isinstance(bad, float) else int(suggested)})


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


def test_ppo_minibatches_cannot_outnumber_a_rollouts_samples():
    PPOConfig(num_envs=4, num_steps=8, minibatches=32)
    with pytest.raises(ConfigError, match=r"minibatches must be <= num_envs x num_steps.*\(4 x 8\), got 33"):
        PPOConfig(num_envs=4, num_steps=8, minibatches=33)
