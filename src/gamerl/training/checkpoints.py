"""Atomic, plain-dict checkpoints that say which system and config wrote them."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from gamerl.atomic import atomic_write
from gamerl.errors import CheckpointError

FORMAT = "gamerl-checkpoint"
VERSION = 1


def save_checkpoint(path: Path, system: str, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plain dict: model, optimizer, counters, RNG states, config) atomically.

    The file is written to a temporary name in the same folder and moved into place with
    ``os.replace``, so a crash mid-write never leaves a truncated checkpoint behind.
    """
    data = {"format": FORMAT, "version": VERSION, "system": system, **payload}
    return atomic_write(path, lambda f: torch.save(data, f))


def load_checkpoint(path: Path, system: str) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` for ``system``.

    Raises :class:`CheckpointError` with a one-line message when the file is missing, unreadable,
    not a gamerl checkpoint, or written by another system.
    """
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist: train first, or pass the right run directory")
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError, OSError, ValueError) as err:
        raise CheckpointError(
            f"checkpoint {path} is corrupt ({type(err).__name__}): restore it from a backup, or start a new run"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gamerl checkpoint: pass a file written by gamerl")
    if data.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {data.get('version')}, this gamerl reads {VERSION}")
    if data.get("system") != system:
        raise CheckpointError(
            f"{path} was written by system '{data.get('system')}', not '{system}': use the matching command"
        )
    return data
