"""Derk's game on each WebGL backend, side by side: raw agent-steps/s, the browser's CPU, and the games' statistics.

The game simulates its arenas in WebGL shaders, which run on the CPU in Mesa's llvmpipe or Chromium's
SwiftShader (``--derk-webgl``). Per backend and round: a fresh browser plays ``--games`` whole games of
``--arenas`` arenas with random actions for both teams (``RandomTeam``), timed without the resets
between games; the browser's CPU is its process group's, read from ``/proc``. The same game should give
the same team statistics on both backends: their means over all teams are printed per backend (the
offensive preset's ``Reward``, ``Hitpoints`` left, ``AliveTime``). Backends alternate within each round,
so a slow spell of the machine hits both. Last line: ``ratio: X``, llvmpipe's mean agent-steps/s over
SwiftShader's (home agents counted, as ``bench/ppo.py --derk`` does).

    python bench/derk_webgl.py --games 4 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from gamerl.algorithms.ppo.opponents import RandomTeam
from gamerl.envs.derk import DerkBatch, DerkSettings, group_processes
from machine import describe_cpu

STATS = {"Reward": 0, "Hitpoints": 2, "AliveTime": 3}
"""team-stat columns printed, by index in ``DerkBatch.step``'s team stats"""


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the living processes of process group ``pgid``."""
    ticks = sum(int(fields[11]) + int(fields[12]) for _, fields in group_processes(pgid))
    return ticks / os.sysconf("SC_CLK_TCK")


def play(webgl: str, arenas: int, games: int, seed: int) -> tuple[float, float, np.ndarray]:
    """Home agent-steps/s, the browser's cores while stepping, and the team stats ``(2 arenas games, 5)``."""
    with DerkBatch(DerkSettings(n_arenas=arenas, webgl=webgl)) as batch:
        team, group = RandomTeam(seed), batch.pids["worker"]
        stats, seconds, cpu, steps = [], 0.0, 0.0, 0
        for _ in range(games):
            obs = batch.reset()
            start, cpu_start = time.perf_counter(), group_cpu_seconds(group)
            done = False
            while not done:
                obs, _, done, game_stats = batch.step(team.act(obs))
                steps += 1
            seconds += time.perf_counter() - start
            cpu += group_cpu_seconds(group) - cpu_start
            stats.append(game_stats)
        return 3 * arenas * steps / seconds, cpu / seconds, np.concatenate(stats)


def main() -> None:
    """Alternate the backends for ``--rounds`` rounds; print a row per backend and round, then the means."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arenas", type=int, default=128)
    parser.add_argument("--games", type=int, default=4, help="whole games per backend and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(describe_cpu())
    print(f"| WebGL, {args.arenas} arenas | round | agent-steps/s | browser cores | " + " | ".join(STATS) + " |")
    print("|---|---|---|---|" + "---|" * len(STATS))
    backends = ("swiftshader", "llvmpipe")
    rates: dict[str, list[float]] = {webgl: [] for webgl in backends}
    stats: dict[str, list[np.ndarray]] = {webgl: [] for webgl in backends}
    for round_ in range(1, args.rounds + 1):
        for webgl in backends:
            rate, cores, game_stats = play(webgl, args.arenas, args.games, seed=round_)
            rates[webgl].append(rate)
            stats[webgl].append(game_stats)
            means = " | ".join(f"{game_stats[:, column].mean():.1f}" for column in STATS.values())
            print(f"| {webgl} | {round_} | {rate:.1f} | {cores:.2f} | {means} |", flush=True)
    for webgl in backends:
        every = np.concatenate(stats[webgl])
        means = ", ".join(f"{name} {every[:, column].mean():.1f}" for name, column in STATS.items())
        print(f"{webgl}: {np.mean(rates[webgl]):.1f} agent-steps/s; {len(every)} teams: {means}")
    print(f"ratio: {np.mean(rates['llvmpipe']) / np.mean(rates['swiftshader']):.3f}")


if __name__ == "__main__":
    main()
