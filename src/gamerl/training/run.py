"""Run directories: ``runs/<env>__<system>__<seed>__<timestamp>/`` with the resolved ``config.json``."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from gamerl.atomic import make_writable_folder, read_json
from gamerl.config.base import RunConfig, config_from_dict, config_to_dict
from gamerl.errors import RunDirError

C = TypeVar("C", bound=RunConfig)

CONFIG_FILE = "config.json"
SUBDIRS = ("tb", "checkpoints", "videos", "figures")


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)


def new_run_dir(config: RunConfig, env_id: str, system: str) -> Path:
    """Create a fresh run directory for ``config`` and write ``config.json`` with the resolved settings.

    Refuses to reuse an existing directory that already holds a run (no data is ever overwritten).
    """
    name = config.run_name or f"{_slug(env_id)}__{system}__{config.seed}__{time.strftime('%Y%m%d-%H%M%S')}"
    if name in (".", "..") or Path(name).name != name:
        raise RunDirError(
            f"--run-name {name!r} is not one folder name: pass a name without '/' (e.g. my-run); "
            "--runs-dir picks the parent folder"
        )
    run_dir = Path(config.runs_dir) / name
    if (run_dir / CONFIG_FILE).exists():
        raise RunDirError(f"run directory {run_dir} already holds a run: pass --resume {run_dir} or another --run-name")
    make_writable_folder(run_dir, "--runs-dir")
    for sub in SUBDIRS:
        (run_dir / sub).mkdir(exist_ok=True)
    payload = {"system": system, "env_id": env_id, "config": config_to_dict(config)}
    (run_dir / CONFIG_FILE).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return run_dir


def discard_unstarted_run(run_dir: Path) -> bool:
    """Remove a run directory that holds nothing but what :func:`new_run_dir` wrote; return whether it did.

    For a fresh run whose environment failed to start: its leftover directory would make the same command
    fail again ("already holds a run") and could not be resumed (no checkpoint). Anything else written
    there keeps the directory.
    """
    run_dir = Path(run_dir)
    if set(run_dir.rglob("*")) != {run_dir / CONFIG_FILE, *(run_dir / sub for sub in SUBDIRS)}:
        return False
    for sub in SUBDIRS:
        (run_dir / sub).rmdir()
    (run_dir / CONFIG_FILE).unlink()
    run_dir.rmdir()
    return True


@contextlib.contextmanager
def discard_on_error(run_dir: Path, fresh: bool) -> Iterator[None]:
    """An error inside the block takes back a ``fresh`` run directory that holds nothing but what
    :func:`new_run_dir` wrote (:func:`discard_unstarted_run`), so the same command can be run again once the
    cause is fixed; a resumed run's directory is never touched."""
    try:
        yield
    except BaseException:
        if fresh:
            discard_unstarted_run(run_dir)
        raise


def read_run_config(run_dir: Path) -> dict[str, Any]:
    """Return ``{"system", "env_id", "config"}`` from ``run_dir/config.json`` (one-line error if unusable)."""
    path = Path(run_dir) / CONFIG_FILE
    if not Path(run_dir).is_dir():
        raise RunDirError(f"run directory {run_dir} does not exist: pass a folder made by 'gamerl train'")
    if not path.is_file():
        raise RunDirError(f"{run_dir} has no {CONFIG_FILE}: it is not a gamerl run directory")
    data = read_json(path, "restore it from a backup")
    if not isinstance(data, dict) or not {"system", "config"} <= set(data):
        raise RunDirError(f"{path} lacks 'system'/'config': it was not written by gamerl")
    return data


def load_run_config(run_dir: Path, cls: type[C], system: str) -> C:
    """Rebuild the config dataclass ``cls`` of a run of ``system`` stored in ``run_dir``."""
    data = read_run_config(run_dir)
    if data["system"] != system:
        raise RunDirError(f"{run_dir} is a '{data['system']}' run, not '{system}': use the matching command")
    config = config_from_dict(cls, data["config"])
    return dataclasses.replace(config, runs_dir=Path(run_dir).parent, run_name=Path(run_dir).name)
