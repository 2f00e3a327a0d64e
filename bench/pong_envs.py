"""Which way of running N Pong games in parallel is fastest here? Same work for each: step with random
UP/DOWN actions at frame skip 4 and produce the post's 80x80 difference frames for every game.

- gamerl ``PongDiffVectorEnv``: learner only (0 workers); 1 worker + the learner's shard; 2 workers.
- ``ale_py.AtariVectorEnv``: C++ threads (2), full grayscale frames, preprocessing in the learner.
- ``gymnasium.vector.AsyncVectorEnv``: one subprocess per 2 cores with ``ALE/Pong-v5``, preprocessing in the learner.

Prints steps/s for each, and ``ratio: X`` = gamerl's default layout / the best alternative.
Usage: python bench/pong_envs.py [--seconds 20] [--num-envs 16]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from gamerl.envs.atari import PongDiffVectorEnv, preprocess_gray

Stepper = Callable[[np.ndarray], np.ndarray]


def _measure(step: Stepper, num_envs: int, seconds: float) -> float:
    rng = np.random.default_rng(0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(rng.integers(0, 2, size=num_envs))
        steps += num_envs
    return steps / (time.perf_counter() - start)


def _diff_frames(gray: np.ndarray, prev: np.ndarray) -> np.ndarray:
    cur = np.stack([preprocess_gray(g) for g in gray])
    diff = cur.astype(np.int8) - prev.astype(np.int8)
    prev[:] = cur
    return diff


def gamerl_env(num_envs: int, seconds: float, num_workers: int, local_games: int | None) -> float:
    """Steps/s of ``PongDiffVectorEnv`` with the given layout."""
    with PongDiffVectorEnv(num_envs, seed=0, num_workers=num_workers, local_games=local_games) as env:
        env.reset()
        return _measure(lambda a: env.step(a)[0], num_envs, seconds)


def atari_vector_env(num_envs: int, seconds: float) -> float:
    """Steps/s of ``ale_py.AtariVectorEnv`` (2 threads) plus preprocessing in this process."""
    from ale_py import AtariVectorEnv

    env = AtariVectorEnv(
        "pong",
        num_envs=num_envs,
        num_threads=2,
        img_height=210,
        img_width=160,
        grayscale=True,
        stack_num=1,
        frameskip=4,
        maxpool=False,
        noop_max=0,
        reward_clipping=False,
        use_fire_reset=False,
        repeat_action_probability=0.0,
    )
    obs, _ = env.reset(seed=0)
    prev = np.zeros((num_envs, 6400), np.uint8)

    def step(actions: np.ndarray) -> np.ndarray:
        frames, *_ = env.step(np.where(actions == 1, 2, 3))
        return _diff_frames(frames[:, 0], prev)

    try:
        return _measure(step, num_envs, seconds)
    finally:
        env.close()


def _make_pong() -> object:
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    return gym.make("ALE/Pong-v5", obs_type="grayscale", frameskip=4, repeat_action_probability=0.0)


def gymnasium_async(num_envs: int, seconds: float) -> float:
    """Steps/s of Gymnasium's ``AsyncVectorEnv`` (one process per game) plus preprocessing here."""
    import gymnasium as gym

    env = gym.vector.AsyncVectorEnv([_make_pong for _ in range(num_envs)], context="spawn")
    env.reset(seed=0)
    prev = np.zeros((num_envs, 6400), np.uint8)

    def step(actions: np.ndarray) -> np.ndarray:
        frames, *_ = env.step(np.where(actions == 1, 2, 3))
        return _diff_frames(frames, prev)

    try:
        return _measure(step, num_envs, seconds)
    finally:
        env.close()


def main() -> None:
    """Parse the flags, time both sides and print their steps/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--num-envs", type=int, default=16)
    args = parser.parse_args()
    n, s = args.num_envs, args.seconds
    ours = {
        "gamerl, learner only (0 workers)": gamerl_env(n, s, 0, None),
        "gamerl, 1 worker + learner shard (default)": gamerl_env(n, s, 1, None),
        "gamerl, 2 workers": gamerl_env(n, s, 2, 0),
    }
    others = {
        "ale_py.AtariVectorEnv, 2 threads": atari_vector_env(n, s),
        f"gymnasium AsyncVectorEnv, {n} processes": gymnasium_async(n, s),
    }
    print(f"{n} Pong games, frame skip 4, 80x80 difference frames, {s:.0f} s each")
    for name, sps in {**ours, **others}.items():
        print(f"{name:48s} {sps:10,.0f} steps/s")
    print(f"ratio: {ours['gamerl, 1 worker + learner shard (default)'] / max(others.values()):.2f}")


if __name__ == "__main__":
    main()
