"""``gamerl collect``: play with a data policy in parallel worker processes and write a rollout store.

Each worker owns one emulator (stable-retro allows one per process) and one store shard, so workers never
share files. Worker ``i`` is seeded with ``seed + i``; a progress queue feeds one bar in the parent.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import queue
import signal
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from gamerl.algorithms.worldmodels.policies import (
    CollectPolicy,
    JerkPolicy,
    RandomPolicy,
    StickyRandomPolicy,
    action_dim,
    encode_action,
)
from gamerl.config.worldmodels import CollectConfig
from gamerl.data.store import RolloutStore, ShardWriter, StoreMeta
from gamerl.envs.registry import get_spec, resolve_factory
from gamerl.envs.retro import contest_levels, game_levels, set_level
from gamerl.envs.wrappers import resize_nearest
from gamerl.errors import ConfigError, GamerlError, TrainingError

WM_ENVS = (
    "Airstriker-Genesis-v0",
    "SonicTheHedgehog-Genesis-v0",
    "SonicTheHedgehog2-Genesis-v0",
    "SonicAndKnuckles3-Genesis-v0",
    "VizdoomTakeCover-v1",
    "CarRacing-v3",
)
"""env ids World Models can collect on"""


def make_env(env_id: str, frame_skip: int) -> Any:
    """Make ``env_id`` (one of :data:`WM_ENVS`) with ``frame_skip``; RGB frames, no rendering window."""
    return resolve_factory(env_id, WM_ENVS)(frame_skip=frame_skip)


def resolve_levels(env_id: str, levels: tuple[str, ...]) -> list[str]:
    """Expand ``contest-train`` / ``contest-validation`` into ``env_id``'s contest levels; check the rest."""
    if not levels:
        return []
    if not get_spec(env_id, WM_ENVS).entry_point.startswith("gamerl.envs.retro"):
        raise ConfigError(f"--levels applies to Genesis games, not {env_id}: drop --levels")
    out: list[str] = []
    for level in levels:
        if level.startswith("contest-"):
            out += [lvl for game, lvl in contest_levels(level.removeprefix("contest-")) if game == env_id]
        elif level in game_levels(env_id):
            out.append(level)
        else:
            raise ConfigError(f"{env_id} has no level '{level}': choose from {', '.join(game_levels(env_id))}")
    if not out:
        raise ConfigError(f"{env_id} has no Retro Contest levels: pass explicit --levels")
    return out


def make_policy(config: CollectConfig, space: Any, rng: np.random.Generator, steps: int) -> CollectPolicy:
    """The data policy named by ``config.policy`` for a worker with a budget of ``steps`` (JERK replays its
    best sequence with a probability that reaches 1 at the end of the budget)."""
    if config.policy == "random":
        return RandomPolicy(space, rng)
    if config.policy == "sticky":
        return StickyRandomPolicy(space, rng, config.stickiness)
    if config.policy == "jerk":
        return JerkPolicy(space, rng, horizon=steps)
    raise ConfigError(f"policy '{config.policy}' does not play the game itself")


def play_episodes(
    config: CollectConfig, worker: int, steps: int, writer: ShardWriter, progress: Any | None = None
) -> int:
    """Play whole episodes into ``writer`` until ``steps`` steps are written; return the episode count.

    The last episode is cut (not terminated) when the budget runs out, so it is still stored.
    """
    seed = config.seed + worker
    rng = np.random.default_rng(seed)
    levels = resolve_levels(config.env_id, config.levels)
    env = make_env(config.env_id, config.frame_skip)
    policy = make_policy(config, env.action_space, rng, steps)
    written, episodes = 0, 0
    try:
        while written < steps:
            level = str(rng.choice(levels)) if levels else None
            if level is not None:
                set_level(env, level)
            obs, _ = env.reset(seed=int(rng.integers(2**31)))
            policy.reset()
            ep_return, terminated, t = 0.0, False, 0
            while True:
                action = policy.act()
                next_obs, reward, terminated, truncated, _ = env.step(action)
                policy.observe(float(reward))
                t += 1
                written += 1
                ep_return += float(reward)
                cut = truncated or t >= config.max_episode_steps or written >= steps
                writer.add(
                    resize_nearest(obs, config.resolution),
                    encode_action(env.action_space, action),
                    float(reward),
                    bool(terminated),
                )
                obs = next_obs
                if progress is not None and written % 100 == 0:
                    progress.put(100)
                if terminated or cut:
                    break
            writer.end_episode(
                {
                    "game": config.env_id,
                    "level": level,
                    "policy": config.policy,
                    "seed": seed,
                    "return": ep_return,
                    "terminated": bool(terminated),
                }
            )
            episodes += 1
    finally:
        env.close()
    return episodes


def _worker(config: CollectConfig, worker: int, steps: int, progress: Any, results: Any) -> None:
    import torch

    torch.set_num_threads(1)
    try:
        store = RolloutStore.open(config.store)
        with store.writer() as writer:
            if config.policy == "bk2":
                from gamerl.algorithms.worldmodels.bk2 import import_movies, movie_files

                files = movie_files(config.movies)[worker :: config.workers]
                count = import_movies(files, writer, config.frame_skip, config.resolution)
            else:
                count = play_episodes(config, worker, steps, writer, progress)
        results.put(("ok", worker, count))
    except GamerlError as err:
        results.put(("error", worker, str(err)))
    except BaseException:
        results.put(("crash", worker, traceback.format_exc()))


def store_meta(config: CollectConfig) -> StoreMeta:
    """The store metadata ``config`` produces (the action size is read from a briefly made env)."""
    env = make_env(config.env_id, config.frame_skip)
    try:
        dim = action_dim(env.action_space)
    finally:
        env.close()
    return StoreMeta(config.resolution, config.frame_skip, dim, config.chunk_steps)


@dataclasses.dataclass(frozen=True)
class CollectResult:
    """Where a collection went and how much it holds (finished episodes, agent steps)."""

    store: Path
    episodes: int
    steps: int


def died_message(worker: int, exitcode: int | None) -> str:
    """One line for a collector process that ended without reporting (its game or the OS ended it)."""
    if exitcode is not None and exitcode < 0:
        try:
            how = f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"was killed by signal {-exitcode}"
    else:
        how = f"ended with exit status {exitcode}"
    return (
        f"collector process {worker} {how} before it finished (out of memory, or its game crashed: see the "
        "lines above); the episodes finished so far are kept in the store: run the same command again to add more"
    )


def collect(config: CollectConfig) -> CollectResult:
    """Run ``config.workers`` collector processes into ``config.store``; return what the store now holds."""
    resolve_levels(config.env_id, config.levels)
    RolloutStore.create_or_open(config.store, store_meta(config))
    ctx = mp.get_context("spawn")
    progress, results = ctx.Queue(), ctx.Queue()
    shares = [config.steps // config.workers + (i < config.steps % config.workers) for i in range(config.workers)]
    procs = [
        ctx.Process(target=_worker, args=(config, i, shares[i], progress, results), daemon=True)
        for i in range(config.workers)
    ]
    for p in procs:
        p.start()
    from gamerl.training.progress import TrainingProgress

    done: list[tuple[str, int, Any]] = []

    def drain_results() -> None:
        while True:
            try:
                done.append(results.get_nowait())
            except queue.Empty:
                return

    def silent_workers() -> list[int]:
        """Workers whose process has ended without a result."""
        reported = {worker for _, worker, _ in done}
        return [i for i, p in enumerate(procs) if p.exitcode is not None and i not in reported]

    total = config.steps if config.policy != "bk2" else 0
    try:
        with TrainingProgress(max(total, 1), "steps", config.progress and total > 0, label="collect") as bar:
            collected = 0
            while len(done) < config.workers:
                try:
                    collected += progress.get(timeout=0.2)
                    bar.update(min(collected, total), collected)
                except queue.Empty:
                    pass
                drain_results()
                if silent_workers():
                    drain_results()  # a result sent just before its process ended
                    if silent := silent_workers():
                        raise TrainingError(died_message(silent[0], procs[silent[0]].exitcode))
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
    for status, worker, detail in done:
        if status == "error":
            raise GamerlError(detail)
        if status == "crash":
            raise TrainingError(f"collector {worker} crashed: {detail.strip().splitlines()[-1]}")
    store = RolloutStore.open(config.store)
    episodes = store.episodes()
    return CollectResult(store.path, len(episodes), sum(e.length for e in episodes))
