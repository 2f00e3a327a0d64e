"""A Derk training rollout: where its time goes, NumPy's BLAS at its default threads against one thread.

Plays ``--games`` games of the ``derk-offensive`` preset (fresh networks, against the random team)
in one browser, alternating games with OpenBLAS at its default thread count (one per core) and limited
to one thread (as training does, :func:`gamerl.training.cpu_kernels.single_threaded_blas`), and prints
per game the seconds spent acting (both networks and sampling, in NumPy) and stepping (the browser and
the random team). Last line: ``ratio: X``, one thread's rollout time / the default's.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

from gamerl.algorithms.ppo.acting import make_actor
from gamerl.algorithms.ppo.agent_env import AgentEnv
from gamerl.algorithms.ppo.networks import ActorCritic
from gamerl.algorithms.ppo.session import build_model, make_agent_env
from gamerl.config.ppo import PRESETS
from gamerl.training.cpu_kernels import single_threaded_blas


def timed_game(env: AgentEnv, model: ActorCritic, obs: np.ndarray, steps: int) -> tuple[float, float, np.ndarray]:
    """(acting seconds, stepping seconds, next observations) of ``steps`` steps of the rollout loop."""
    actor = make_actor(model, np.random.default_rng(0))
    acting = stepping = 0.0
    for _ in range(steps):
        start = time.perf_counter()
        actions = actor.act(obs).actions
        middle = time.perf_counter()
        obs = env.step(actions).obs
        acting, stepping = acting + middle - start, stepping + time.perf_counter() - middle
    return acting, stepping, obs


def main() -> None:
    """Alternate the two settings game by game and print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arenas", type=int, default=128)
    parser.add_argument("--games", type=int, default=4, help="games in all, alternating the two settings")
    args = parser.parse_args()
    config = dataclasses.replace(PRESETS["derk-offensive"][1], num_envs=args.arenas)
    default_threads = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
    settings = {f"{default_threads} BLAS threads": contextlib.nullcontext, "1 BLAS thread": single_threaded_blas}
    totals = dict.fromkeys(settings, 0.0)
    print(f"| game | NumPy BLAS | acting s | stepping s | agent-steps/s |  ({args.arenas} arenas)")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        env = make_agent_env(config, Path(tmp), seed=0)
        try:
            model = build_model(config, env.obs_shape, env.heads)
            obs = env.reset()
            for game in range(args.games):
                name = list(settings)[game % 2]
                with settings[name]():
                    acting, stepping, obs = timed_game(env, model, obs, config.num_steps)
                totals[name] += acting + stepping
                rate = env.num_agents * config.num_steps / (acting + stepping)
                print(f"| {game + 1} | {name} | {acting:.2f} | {stepping:.2f} | {rate:.0f} |", flush=True)
        finally:
            env.close()
    default, one = totals.values()
    print(f"ratio: {one / default:.3f}")


if __name__ == "__main__":
    main()
