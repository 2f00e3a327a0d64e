"""The World Models run directory: one folder shared by the stages, each reading explicit paths.

``RUN/worldmodels.json`` (written by ``train vae``) names the rollout store and its resolution, frame skip
and action size; later stages refuse a store or latents made at another resolution or frame skip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gamerl.atomic import read_json, write_json_atomic
from gamerl.data.store import RolloutStore
from gamerl.errors import ConfigError, RunDirError

SYSTEM = "worldmodels"
MANIFEST = "worldmodels.json"
VAE_CHECKPOINT = "checkpoints/vae.pt"
MDN_CHECKPOINT = "checkpoints/mdn.pt"
MDN_CONFIG = "mdn_config.json"
MDN_LOGS = "mdn"
"""M's metrics.jsonl and tb/ (V's are in the run directory itself)"""
LATENTS = "latents.npz"


def write_manifest(run_dir: Path, store: RolloutStore, z_dim: int) -> None:
    """Record the store and the shape/frame-rate every later stage must match."""
    m = store.meta
    write_json_atomic(
        run_dir / MANIFEST,
        {
            "store": str(store.path.resolve()),
            "resolution": m.resolution,
            "frame_skip": m.frame_skip,
            "action_dim": m.action_dim,
            "z_dim": z_dim,
        },
    )


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of ``run_dir`` (one-line error if it is not a World Models run)."""
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        raise RunDirError(f"{run_dir} is not a World Models run (no {MANIFEST}): start one with 'gamerl train vae'")
    return read_json(path, "restore it from a backup")  # type: ignore[no-any-return]


def open_matching_store(run_dir: Path, store_path: Path | None) -> RolloutStore:
    """The run's store, or ``store_path`` if given, refused unless its resolution/frame skip/actions match."""
    manifest = read_manifest(run_dir)
    store = RolloutStore.open(Path(store_path or manifest["store"]))
    store.check(manifest["resolution"], manifest["frame_skip"], manifest["action_dim"])
    return store


def check_latents(run_dir: Path, resolution: int, frame_skip: int) -> None:
    """Refuse latents encoded from frames of another resolution or frame skip than the run's."""
    manifest = read_manifest(run_dir)
    if (resolution, frame_skip) != (manifest["resolution"], manifest["frame_skip"]):
        raise ConfigError(
            f"latents in {run_dir} come from {resolution} px frames at frame skip {frame_skip}, but the run "
            f"uses {manifest['resolution']} px at frame skip {manifest['frame_skip']}: "
            "run 'gamerl encode' again"
        )
