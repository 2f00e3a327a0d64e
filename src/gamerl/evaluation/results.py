"""Evaluation results on disk: one JSON file per evaluation, never written over by a different evaluation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gamerl.atomic import write_json_atomic


def weights_digest(arrays: Iterable[np.ndarray | torch.Tensor]) -> str:
    """A short fingerprint of the weights evaluated (e.g. ``model.state_dict().values()``): equal weights give
    equal digests, so a result names the exact weights it scored."""
    digest = hashlib.sha1()
    for array in arrays:
        values = array.detach().cpu().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)
        digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()[:12]


def save_result(path: Path, record: dict[str, Any], settings: dict[str, Any]) -> Path:
    """Write ``record`` with the ``settings`` that define its evaluation (the weights' digest, games, seed,
    opponent…) to ``path``, and return the file written.

    The same settings again replace their own file. When ``path`` holds the result of other settings (or one
    from before settings were stored), the record goes to the first free ``<stem>_2.json``, ``<stem>_3.json``…
    instead, so no evaluation is lost."""
    settings = json.loads(json.dumps(settings, default=str))  # as they read back: paths and tuples as JSON
    target, n = path, 1
    while target.exists() and _stored_settings(target) != settings:
        n += 1
        target = path.with_name(f"{path.stem}_{n}{path.suffix}")
    write_json_atomic(target, {**record, "settings": settings}, indent=2)
    return target


def _stored_settings(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("settings")
    except (OSError, ValueError, AttributeError):  # unreadable or not a results object: never written over
        return None
