"""Env id → factory, with lazy imports so a missing optional package only matters when its game is used."""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from collections.abc import Callable
from typing import Any

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
