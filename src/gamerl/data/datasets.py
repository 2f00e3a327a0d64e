"""What the trainers read: frames for V (from a rollout store) and latent sequences for M (from encode)."""

from __future__ import annotations

import dataclasses
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gamerl.atomic import read_npz
from gamerl.data.store import Episode, RolloutStore
from gamerl.errors import ConfigError, RunDirError


def split_episodes(episodes: list[Episode], validation_fraction: float) -> tuple[list[Episode], list[Episode]]:
    """Deterministic (train, validation) split by a hash of each episode's place, stable as the store grows.

    With at least two episodes and a non-zero fraction, validation gets at least one episode.
    """
    if validation_fraction <= 0 or len(episodes) < 2:
        return list(episodes), []
    keyed = sorted(episodes, key=lambda e: zlib.crc32(f"{e.shard}/{e.start}".encode()))
    n_val = max(1, round(len(episodes) * validation_fraction))
    val = set(map(id, keyed[:n_val]))
    return [e for e in episodes if id(e) not in val], [e for e in episodes if id(e) in val]


def load_frames(store: RolloutStore, episodes: list[Episode], max_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Frames of ``episodes`` in memory, ``(N, R, R, 3)`` uint8, N ≤ ``max_frames``.

    When the episodes hold more frames, whole episodes are drawn at random until the budget is met (the
    seed's rotating buffer: call again each epoch for a fresh subset).
    """
    order = rng.permutation(len(episodes))
    chosen, total = [], 0
    for i in order:
        if total >= max_frames:
            break
        chosen.append(episodes[i])
        total += episodes[i].length
    if not chosen:
        r = store.meta.resolution
        return np.zeros((0, r, r, 3), np.uint8)
    frames = np.concatenate([store.read_episode(ep, ("frames",))["frames"] for ep in chosen])
    return frames[:max_frames]


@dataclasses.dataclass(frozen=True)
class Latents:
    """Every stored step encoded by V: μ and log σ² per frame, with actions, rewards, dones, episodes."""

    mu: np.ndarray
    """(N, Z) float32"""
    logvar: np.ndarray
    """(N, Z) float32"""
    actions: np.ndarray
    """(N, A) float32"""
    rewards: np.ndarray
    """(N,) float32"""
    dones: np.ndarray
    """(N,) bool"""
    starts: np.ndarray
    """(E,) int64 first step of each episode"""
    lengths: np.ndarray
    """(E,) int64"""
    resolution: int
    frame_skip: int

    def save(self, path: Path) -> None:
        """Write to ``path`` (.npz) atomically."""
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **{f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self)})
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Latents:
        """Read what :meth:`save` wrote (one-line error if absent)."""
        if not path.is_file():
            raise RunDirError(f"{path} does not exist: run 'gamerl encode RUN_DIR' first")
        values = read_npz(path, [f.name for f in dataclasses.fields(cls)], "run 'gamerl encode RUN_DIR' again")
        values["resolution"], values["frame_skip"] = int(values["resolution"]), int(values["frame_skip"])
        return cls(**values)

    def subset(self, episodes: np.ndarray) -> Latents:
        """The same data restricted to episode indices ``episodes`` (steps re-packed)."""
        steps = np.concatenate(
            [np.arange(s, s + n) for s, n in zip(self.starts[episodes], self.lengths[episodes], strict=True)]
        )
        lengths = self.lengths[episodes]
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        return dataclasses.replace(
            self,
            mu=self.mu[steps],
            logvar=self.logvar[steps],
            actions=self.actions[steps],
            rewards=self.rewards[steps],
            dones=self.dones[steps],
            starts=starts,
            lengths=lengths,
        )


class SequenceBatch(NamedTuple):
    """A batch of M training windows: inputs at t, targets at t+1 (z) or t (reward, done)."""

    mu: np.ndarray
    """(B, T+1, Z) μ of steps t..t+T (the last is only a target)"""
    logvar: np.ndarray
    """(B, T+1, Z)"""
    actions: np.ndarray
    """(B, T, A) actions taken at t"""
    rewards: np.ndarray
    """(B, T) reward of the action at t"""
    dones: np.ndarray
    """(B, T) 1.0 where the episode terminated after the action at t"""
    step_mask: np.ndarray
    """(B, T) 1.0 where step t exists (windows of short episodes are padded)"""
    next_mask: np.ndarray
    """(B, T) 1.0 where z(t+1) exists (not after an episode's last step)"""


def sample_sequences(latents: Latents, batch: int, length: int, rng: np.random.Generator) -> SequenceBatch:
    """``batch`` windows of ``length`` steps, episodes drawn in proportion to their length, random starts."""
    if len(latents.lengths) == 0:
        raise ConfigError("no episodes to train M on: collect and encode more data")
    p = latents.lengths / latents.lengths.sum()
    eps = rng.choice(len(latents.lengths), size=batch, p=p)
    z_dim, a_dim = latents.mu.shape[1], latents.actions.shape[1]
    mu = np.zeros((batch, length + 1, z_dim), np.float32)
    logvar = np.zeros((batch, length + 1, z_dim), np.float32)
    actions = np.zeros((batch, length, a_dim), np.float32)
    rewards = np.zeros((batch, length), np.float32)
    dones = np.zeros((batch, length), np.float32)
    step_mask = np.zeros((batch, length), np.float32)
    next_mask = np.zeros((batch, length), np.float32)
    for b, e in enumerate(eps):
        start, n = int(latents.starts[e]), int(latents.lengths[e])
        offset = int(rng.integers(0, max(n - length, 0) + 1))
        steps = min(length, n - offset)
        lo = start + offset
        with_next = steps + int(offset + steps < n)
        mu[b, :with_next] = latents.mu[lo : lo + with_next]
        logvar[b, :with_next] = latents.logvar[lo : lo + with_next]
        actions[b, :steps] = latents.actions[lo : lo + steps]
        rewards[b, :steps] = latents.rewards[lo : lo + steps]
        dones[b, :steps] = latents.dones[lo : lo + steps]
        step_mask[b, :steps] = 1.0
        next_mask[b, : with_next - 1] = 1.0
    return SequenceBatch(mu, logvar, actions, rewards, dones, step_mask, next_mask)
