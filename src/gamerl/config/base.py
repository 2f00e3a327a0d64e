"""The run settings every system shares, and (de)serialisation of config dataclasses."""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from gamerl.atomic import read_json
from gamerl.errors import ConfigError

C = TypeVar("C")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Settings shared by every system: where the run lives, seeding, logging and checkpoints."""

    seed: int = 1
    """one seed for Python, NumPy, torch and every environment"""
    runs_dir: Path = Path("runs")
    """parent folder of run directories (runs/<env>__<system>__<seed>__<timestamp>/)"""
    run_name: str | None = None
    """explicit run directory name inside runs_dir (default: <env>__<system>__<seed>__<timestamp>)"""
    checkpoint_every: int = 10
    """write a checkpoint every this many updates (generations for evolution methods)"""
    progress: bool = True
    """show a progress bar on the terminal"""
    torch_threads: int = 1
    """torch intra-op threads in the learner process"""

    resume_budget: ClassVar[tuple[str, ...]] = ()
    """what a resume may extend (e.g. updates): the run's stored value unless given again"""
    sitting_options: ClassVar[tuple[str, ...]] = ("progress", "torch_threads")
    """how one invocation runs (time limit, progress bar, threads): the command line's, resumed or not, but
    for :data:`KEPT_SITTING_OPTIONS`"""

    def __post_init__(self) -> None:
        require(
            [
                field_check(self, "seed", ">= 0"),
                field_check(self, "checkpoint_every", ">= 1"),
                field_check(self, "torch_threads", ">= 1"),
            ]
        )


_RULE = re.compile(r"(?P<op>>=|>) (?P<low>\S+)|in (?P<left>[\[(])(?P<lo>[^,]+), (?P<hi>[^\])]+)(?P<right>[\])])")


def _satisfies(value: float, rule: str) -> bool:
    match = _RULE.fullmatch(rule)
    if match is None:
        raise ValueError(f"unknown rule {rule!r}: use '>= x', '> x' or 'in [a, b]' with ( ) for open ends")
    if match["op"]:
        low = float(match["low"])
        return value >= low if match["op"] == ">=" else value > low
    lo, hi = float(match["lo"]), float(match["hi"])
    above = lo <= value if match["left"] == "[" else lo < value
    below = value <= hi if match["right"] == "]" else value < hi
    return above and below


def field_check(config: Any, name: str, rule: str, example: object = None) -> tuple[bool, str]:
    """The check of the numeric field ``name`` of a config dataclass against ``rule`` (``'>= 1'``, ``'> 0'``,
    ``'in [0, 1)'``), as (ok, one-line message). The message names the flag and a value to pass: ``example``
    or else the field's default; a field whose default is None (left out) may also be left out, and a None
    value passes. NaN and infinities never pass."""
    value = getattr(config, name)
    default = next(field.default for field in dataclasses.fields(config) if field.name == name)
    flag = "--" + name.replace("_", "-")
    shown = default if example is None else example
    fix = f"pass {flag} {shown}" if shown not in (None, dataclasses.MISSING) else f"pass {flag} with a value {rule}"
    if default is None:
        fix += " or leave it out"
    ok = value is None or (math.isfinite(value) and _satisfies(value, rule))
    return ok, f"{name} must be {rule}, got {value}: {fix}"


def require(checks: list[tuple[bool, str]]) -> None:
    """Raise a :class:`ConfigError` with the message of the first failed (ok, message) check."""
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def config_to_dict(config: Any) -> dict[str, Any]:
    """Return a JSON-ready dict of a config dataclass (paths become strings)."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            value = config_to_dict(value)
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[field.name] = value
    return out


def _coerce(hint: Any, value: Any) -> Any:
    """Turn a JSON value back into the annotated type (``Path``, tuples); other values pass through."""
    if value is None:
        return None
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    if Path in options:
        return Path(value)
    if any(typing.get_origin(o) is tuple or o is tuple for o in options) and isinstance(value, list):
        return tuple(value)
    return value


def config_from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Rebuild a config dataclass from :func:`config_to_dict` output; unknown keys are an error."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise ConfigError(
            f"config has unknown keys {sorted(unknown)} for {cls.__name__}: was it written by another system?"
        )
    return cls(**{name: _coerce(hints[name], value) for name, value in data.items()})


def read_config_file(path: Path, cls: type[C]) -> C | None:
    """The ``cls`` config stored as JSON in ``path`` (by :func:`config_to_dict`); None when there is no file."""
    if not path.is_file():
        return None
    return config_from_dict(cls, read_json(path, "restore it from a backup"))


def _flags(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join("--" + name.replace("_", "-") for name in names)


KEPT_SITTING_OPTIONS = ("torch_threads",)
"""sitting options that a resume from the command line keeps from the run unless given again: a run
started with a preset's threads (Derk's 2) goes on with them"""


def resumable(config: Any) -> tuple[str, ...]:
    """The options a resume of a run with ``config`` takes: its budget, then how the sitting runs."""
    return (*config.resume_budget, *config.sitting_options)


def resume_help(what: str, config: Any) -> str:
    """Help of a ``--resume`` option: ``what`` it does, then the options a resume of ``config`` (an instance or
    its class) takes, so that the list cannot drift from :func:`resumable`."""
    return f"{what}; it takes {_flags(resumable(config))}"


def resume_config(stored: C, given: C) -> C:
    """A resumed run's config: ``stored`` (its config.json) with the :func:`resumable` options of ``given``."""
    return dataclasses.replace(stored, **{n: getattr(given, n) for n in resumable(stored)})  # type: ignore


def refuse_changes_on_resume(given: C, stored: C) -> None:
    """One-line ConfigError if ``given`` changes more than a resume may (the rest would go silently unused)."""
    allowed = resumable(stored)
    changed = [
        f.name
        for f in dataclasses.fields(stored)  # type: ignore[arg-type]
        if f.name not in allowed and getattr(given, f.name) != getattr(stored, f.name)
    ]
    if changed:
        raise ConfigError(
            f"{_flags(changed)} cannot change when resuming (the run keeps the settings it was started with; "
            f"a resume takes only {_flags(allowed)}): start a new run to change them"
        )
