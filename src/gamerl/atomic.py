"""Our files on disk: atomic writes (a temporary file beside the target, fsync, then ``os.replace``, so a
crash mid-write leaves the previous file intact, never a truncated one), folders checked before work
that writes there, and JSON and .npz files read back with one-line errors."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

from gamerl.errors import RunDirError


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Create ``path``'s folder, call ``write(file)`` on a temporary binary file, and move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def make_writable_folder(folder: Path, flag: str) -> Path:
    """Create ``folder`` (and its parents) and check a file can be written in it, before any work whose result
    goes there; a folder that cannot be made or written is a one-line :class:`RunDirError` naming ``flag``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except (FileExistsError, NotADirectoryError):
        raise RunDirError(f"cannot write in {folder} (a file is in the way): pass {flag} another path") from None
    except OSError as err:
        raise RunDirError(f"cannot write in {folder} ({err.strerror}): pass {flag} a path you can write to") from None
    return folder


def write_json_atomic(path: Path, data: Any, indent: int | None = None) -> Path:
    """Write ``data`` as JSON to ``path`` atomically (``indent``: pretty-printed, for files people read)."""
    return atomic_write(path, lambda f: f.write(json.dumps(data, indent=indent).encode("utf-8")))


def read_json(path: Path, fix: str) -> Any:
    """The JSON value in ``path``; a file that is not JSON (damaged, or not ours) is a one-line
    :class:`RunDirError` ending in ``fix``, what the user can do about it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RunDirError(f"{path} is not valid JSON ({err.msg} at line {err.lineno}): {fix}") from None
    except UnicodeDecodeError:
        raise RunDirError(f"{path} is not a text file: {fix}") from None


def read_npz(path: Path, names: Iterable[str], fix: str) -> dict[str, np.ndarray]:
    """The arrays ``names`` of the .npz file ``path``; a damaged file, or one without them, is a one-line
    :class:`RunDirError` ending in ``fix``."""
    try:
        with np.load(path) as data:
            return {name: data[name] for name in names}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise RunDirError(f"{path} is damaged or not ours ({type(err).__name__}): {fix}") from None
