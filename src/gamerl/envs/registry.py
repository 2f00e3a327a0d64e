"""Env id → factory, with lazy imports so a missing optional package only matters when its game is used."""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from collections.abc import Callable
from typing import Any

from gamerl.envs.retro import CONTEST_STICKY_PROB
from gamerl.errors import EnvNotFoundError


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """Where to find an environment's factory and what it is."""

    env_id: str
    entry_point: str
    """``"module.path:callable"`` imported only when the env is made"""
    description: str
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)


_REGISTRY: dict[str, EnvSpec] = {}


def register(spec: EnvSpec) -> None:
    """Add ``spec`` to the registry (re-registering the same id replaces it)."""
    _REGISTRY[spec.env_id] = spec


def env_ids() -> list[str]:
    """All registered env ids, sorted."""
    return sorted(_REGISTRY)


def get_spec(env_id: str, allowed: tuple[str, ...] | None = None) -> EnvSpec:
    """Return the spec of ``env_id`` or raise a one-line :class:`EnvNotFoundError` with suggestions.

    ``allowed`` restricts the ids a given system accepts.
    """
    choices = [e for e in env_ids() if allowed is None or e in allowed]
    if env_id not in choices:
        close = difflib.get_close_matches(env_id, choices, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"choose one of: {', '.join(choices)}"
        raise EnvNotFoundError(f"unknown env id '{env_id}': {hint}")
    return _REGISTRY[env_id]


def resolve_factory(env_id: str, allowed: tuple[str, ...] | None = None) -> Callable[..., Any]:
    """Import and return the factory of ``env_id`` bound to its registered keyword arguments."""
    spec = get_spec(env_id, allowed)
    module_name, attr = spec.entry_point.split(":")
    factory = getattr(importlib.import_module(module_name), attr)
    if not spec.kwargs:
        return factory  # type: ignore[no-any-return]

    def bound(*args: Any, **kwargs: Any) -> Any:
        return factory(*args, **{**spec.kwargs, **kwargs})

    return bound


register(
    EnvSpec(
        "ALE/Pong-v5",
        "gamerl.envs.atari:PongDiffVectorEnv",
        "Atari Pong (ROM ships with ale-py), 80x80 binary difference frames, UP/DOWN actions",
    )
)
register(
    EnvSpec(
        "Airstriker-Genesis-v0",
        "gamerl.envs.retro:make_retro",
        "Genesis shooter (ROM ships with stable-retro), Sonic buttons LEFT RIGHT DOWN B (B on turbo), "
        "the contest's sticky frame skip 4",
        {"game": "Airstriker-Genesis-v0", "sticky_prob": CONTEST_STICKY_PROB},
    )
)
for _game, _title in (
    ("SonicTheHedgehog-Genesis-v0", "Sonic the Hedgehog"),
    ("SonicTheHedgehog2-Genesis-v0", "Sonic the Hedgehog 2"),
    ("SonicAndKnuckles3-Genesis-v0", "Sonic 3 & Knuckles"),
):
    register(
        EnvSpec(
            _game,
            "gamerl.envs.retro:make_retro",
            f"{_title} (import your ROM: python -m stable_retro.import DIR), contest reward, "
            "the contest's sticky frame skip 4",
            {"game": _game, "sticky_prob": CONTEST_STICKY_PROB},
        )
    )
register(
    EnvSpec(
        "VizdoomTakeCover-v1",
        "gamerl.envs.doom:make_take_cover",
        "VizDoom take_cover (the World Models paper's Doom game), Discrete(3), capped at 2,100 tics",
    )
)
register(
    EnvSpec(
        "Derk-v0",
        "gamerl.envs.derk:DerkParallelEnv",
        "Derk's Gym MOBA (gym-derk 1.1.1 offline, Chromium + Xvfb), two teams of three per arena, PettingZoo",
    )
)
register(
    EnvSpec(
        "CarRacing-v3",
        "gamerl.envs.carracing:make_car_racing",
        "Gymnasium CarRacing (the World Models paper's first game), 96x96 frames, continuous actions",
    )
)
