"""Rollout store on zarr 3: frames, actions, rewards and episode boundaries, chunked along time.

Layout of a store folder::

    STORE/store.json                  resolution, frame skip, action size, steps per chunk (fixed at creation)
    STORE/shards/<name>/              one zarr group per writer session (frames, actions, rewards, dones)
    STORE/shards/<name>/commit.json   steps written so far and the finished episodes inside them

Every writer session owns its own shard, so several collector processes write at once without locks.
Arrays are written one whole chunk (``chunk_steps`` steps, 2,500 by default as in the seed) at a time;
after each chunk ``commit.json`` is replaced atomically. Readers only look below the committed length, so
a writer killed with SIGKILL loses at most its unfinished chunk and never damages what was committed, and
training can read a store while collection goes on. Frames are sharded zarr arrays (one shard per chunk,
one frame per inner chunk, zstd), so a random frame costs one small decompression.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from gamerl.atomic import make_writable_folder, read_json, write_json_atomic
from gamerl.errors import ConfigError, DependencyError, RunDirError

FORMAT = "gamerl-rollouts"
VERSION = 1
CAPACITY = 10**9
"""declared length of every shard array; only written chunks take space (zarr 3.1 orthogonal indexing
slows down with the declared length: 2**40 took 13 s for 32 frames, 10**9 takes 0.1 s)"""


def _zarr() -> Any:
    try:
        import zarr
    except ImportError:
        raise DependencyError("the rollout store needs zarr 3: pip install 'gamerl[worldmodels]'") from None
    return zarr


@dataclasses.dataclass(frozen=True)
class StoreMeta:
    """What every frame of a store shares; a store refuses data of another shape or frame rate."""

    resolution: int
    """frames are (resolution, resolution, 3) uint8"""
    frame_skip: int
    """emulator frames per agent step"""
    action_dim: int
    """length of the stored action vector (button bits or one-hot)"""
    chunk_steps: int = 2500
    """steps per chunk along time"""


@dataclasses.dataclass(frozen=True)
class Episode:
    """One finished episode: where its steps lie and how it was made."""

    shard: str
    start: int
    length: int
    meta: dict[str, Any]
    """game, level, policy, seed, return, terminated, frame_skip, resolution"""


class RolloutStore:
    """A folder of rollouts made at one resolution and frame skip (see the module docstring)."""

    def __init__(self, path: Path, meta: StoreMeta) -> None:
        self.path = Path(path)
        self.meta = meta

    @classmethod
    def open(cls, path: Path) -> RolloutStore:
        """Open an existing store (one-line error if ``path`` is not one)."""
        path = Path(path)
        meta_path = path / "store.json"
        if not meta_path.is_file():
            raise RunDirError(f"{path} is not a rollout store (no store.json): make one with 'gamerl collect'")
        data = read_json(meta_path, "restore it from a backup, or collect into a new --store")
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
            raise RunDirError(f"{meta_path} is not a version-{VERSION} gamerl rollout store")
        return cls(path, StoreMeta(**data["meta"]))

    @classmethod
    def create_or_open(cls, path: Path, meta: StoreMeta) -> RolloutStore:
        """Open the store at ``path``, creating it with ``meta`` if absent; refuse it if ``meta`` differs.

        Safe when several processes call it at once: the first ``store.json`` linked into place wins.
        """
        path = Path(path)
        make_writable_folder(path / "shards", "--store")
        meta_path = path / "store.json"
        if not meta_path.exists():
            fd, tmp = tempfile.mkstemp(prefix="store.json.", suffix=".tmp", dir=path)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"format": FORMAT, "version": VERSION, "meta": dataclasses.asdict(meta)}, f, indent=2)
            try:
                os.link(tmp, meta_path)
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        store = cls.open(path)
        store.check(meta.resolution, meta.frame_skip, meta.action_dim)
        if store.meta.chunk_steps != meta.chunk_steps:
            raise ConfigError(
                f"store {path} uses {store.meta.chunk_steps} steps per chunk, not {meta.chunk_steps}: "
                f"pass --chunk-steps {store.meta.chunk_steps} or another --store"
            )
        return store

    def check(self, resolution: int, frame_skip: int, action_dim: int | None = None) -> None:
        """Raise a one-line :class:`ConfigError` unless the store holds data of this shape and frame rate."""
        m = self.meta
        if m.resolution != resolution or m.frame_skip != frame_skip:
            raise ConfigError(
                f"store {self.path} holds {m.resolution} px frames at frame skip {m.frame_skip}, not "
                f"{resolution} px at frame skip {frame_skip}: pass --resolution {m.resolution} "
                f"--frame-skip {m.frame_skip}, or use another store"
            )
        if action_dim is not None and m.action_dim != action_dim:
            raise ConfigError(
                f"store {self.path} holds {m.action_dim}-dim actions, not {action_dim}: "
                "it was collected on another game's controls; use another store"
            )

    def shard_names(self) -> list[str]:
        """Names of the shards that have committed at least one chunk, sorted."""
        root = self.path / "shards"
        return sorted(p.parent.name for p in root.glob("*/commit.json"))

    def read_commit(self, shard: str) -> dict[str, Any]:
        """``{"steps": int, "episodes": [...]}`` last committed by ``shard``."""
        return read_json(  # type: ignore[no-any-return]
            self.path / "shards" / shard / "commit.json", f"move the shard {shard} out of the store's shards/"
        )

    def episodes(self) -> list[Episode]:
        """Every committed finished episode, in (shard, start) order; re-read each call (new data appears)."""
        out = []
        for shard in self.shard_names():
            for ep in self.read_commit(shard)["episodes"]:
                out.append(Episode(shard, ep["start"], ep["length"], ep["meta"]))
        return out

    def total_steps(self) -> int:
        """Steps inside committed finished episodes."""
        return sum(ep.length for ep in self.episodes())

    def _group(self, shard: str) -> Any:
        return _zarr().open_group(str(self.path / "shards" / shard), mode="r")

    def read_episode(
        self, episode: Episode, fields: tuple[str, ...] = ("frames", "actions", "rewards", "dones")
    ) -> dict[str, np.ndarray]:
        """Arrays of one episode: frames ``(L, R, R, 3)`` uint8, actions ``(L, A)`` float32, rewards ``(L,)``
        float32, dones ``(L,)`` bool (True at the last step of a terminated episode)."""
        group = self._group(episode.shard)
        sl = slice(episode.start, episode.start + episode.length)
        return {name: group[name][sl] for name in fields}

    def read_frames(self, shard: str, index: np.ndarray) -> np.ndarray:
        """Frames at sorted step indices ``index`` ``(N,)`` of ``shard`` → ``(N, R, R, 3)`` uint8."""
        return self._group(shard)["frames"].get_orthogonal_selection((index,))  # type: ignore[no-any-return]

    def writer(self, name: str | None = None) -> ShardWriter:
        """A writer into a new shard (``name`` must be new; default: a unique name)."""
        return ShardWriter(self, name or f"{os.getpid()}-{uuid.uuid4().hex[:12]}")


class ShardWriter:
    """Appends steps to one new shard, committing each full chunk; call :meth:`close` to flush the rest."""

    def __init__(self, store: RolloutStore, name: str) -> None:
        self.store = store
        self.name = name
        self.dir = store.path / "shards" / name
        if self.dir.exists():
            raise RunDirError(f"shard {self.dir} already exists: every writer session needs a new name")
        zarr = _zarr()
        from zarr.codecs import ZstdCodec

        m = store.meta
        group = zarr.open_group(str(self.dir), mode="w-")
        r, c = m.resolution, m.chunk_steps
        self._arrays = {
            "frames": group.create_array(
                "frames",
                shape=(CAPACITY, r, r, 3),
                shards=(c, r, r, 3),
                chunks=(1, r, r, 3),
                dtype="uint8",
                compressors=ZstdCodec(level=3),
                fill_value=0,
            ),
            "actions": group.create_array(
                "actions",
                shape=(CAPACITY, m.action_dim),
                chunks=(c, m.action_dim),
                dtype="float32",
                compressors=ZstdCodec(level=3),
                fill_value=0.0,
            ),
            "rewards": group.create_array(
                "rewards",
                shape=(CAPACITY,),
                chunks=(c,),
                dtype="float32",
                compressors=ZstdCodec(level=3),
                fill_value=0.0,
            ),
            "dones": group.create_array(
                "dones",
                shape=(CAPACITY,),
                chunks=(c,),
                dtype="bool",
                compressors=ZstdCodec(level=3),
                fill_value=False,
            ),
        }
        self._buffer = {
            "frames": np.zeros((c, r, r, 3), np.uint8),
            "actions": np.zeros((c, m.action_dim), np.float32),
            "rewards": np.zeros(c, np.float32),
            "dones": np.zeros(c, bool),
        }
        self._fill = 0
        self._committed = 0
        self._episode_start = 0
        self._finished: list[dict[str, Any]] = []
        self._closed = False

    @property
    def steps(self) -> int:
        """Steps added so far (committed or buffered)."""
        return self._committed + self._fill

    def add(self, frame: np.ndarray, action: np.ndarray, reward: float, done: bool) -> None:
        """Append one step: ``frame`` ``(R, R, 3)`` uint8 seen before ``action`` ``(A,)``, reward, done."""
        i = self._fill
        self._buffer["frames"][i] = frame
        self._buffer["actions"][i] = action
        self._buffer["rewards"][i] = reward
        self._buffer["dones"][i] = done
        self._fill += 1
        if self._fill == self.store.meta.chunk_steps:
            self._flush()

    def end_episode(self, meta: dict[str, Any]) -> None:
        """Mark the steps since the last episode end as one episode with ``meta`` (JSON-ready)."""
        length = self.steps - self._episode_start
        if length > 0:
            full = {
                "resolution": self.store.meta.resolution,
                "frame_skip": self.store.meta.frame_skip,
                **meta,
            }
            self._finished.append({"start": self._episode_start, "length": length, "meta": full})
        self._episode_start = self.steps

    def _flush(self) -> None:
        start, n = self._committed, self._fill
        if n:
            for key, array in self._arrays.items():
                array[start : start + n] = self._buffer[key][:n]
        self._committed += n
        self._fill = 0
        done = [ep for ep in self._finished if ep["start"] + ep["length"] <= self._committed]
        previous = self.store.read_commit(self.name)["episodes"] if (self.dir / "commit.json").exists() else []
        write_json_atomic(self.dir / "commit.json", {"steps": self._committed, "episodes": previous + done})
        self._finished = [ep for ep in self._finished if ep not in done]

    def close(self) -> None:
        """Write the buffered steps and commit every finished episode (an unfinished one is dropped)."""
        if not self._closed:
            if self._fill or self._finished or not (self.dir / "commit.json").exists():
                self._flush()
            self._closed = True

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
