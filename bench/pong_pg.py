"""Pong policy gradients, side by side in one run on this machine (same game, same frame skip):

(a) the raw stepping ceiling: ``--processes`` processes each stepping bare ALE Pong with random actions;
(b) gamerl's REINFORCE trainer (``gamerl train pg``), agent steps/s over a fixed wall-clock budget;
(c) the post's single-process NumPy REINFORCE (``bench/karpathy_numpy.py``).

Prints a table, the two ratios, and a last line ``ratio: X`` (ours / NumPy baseline).
Usage: python bench/pong_pg.py [--seconds 60] [--num-envs 16]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _raw_ale(seconds: float, frame_skip: int, seed: int, queue: mp.Queue) -> None:
    from ale_py import ALEInterface, LoggerMode, roms

    ALEInterface.setLoggerMode(LoggerMode.Error)
    ale = ALEInterface()
    ale.setInt("random_seed", seed)
    ale.setInt("frame_skip", frame_skip)
    ale.setFloat("repeat_action_probability", 0.0)
    ale.loadROM(roms.get_rom_path("pong"))
    actions = ale.getMinimalActionSet()
    rng = np.random.default_rng(seed)
    screen = np.empty((210, 160), dtype=np.uint8)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        ale.act(actions[rng.integers(len(actions))])
        ale.getScreenGrayscale(screen)
        steps += 1
        if ale.game_over():
            ale.reset_game()
    queue.put(steps / (time.perf_counter() - start))


def raw_ceiling(seconds: float, processes: int, frame_skip: int) -> float:
    """Summed steps/s of ``processes`` bare ALE Pong processes with random actions."""
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=_raw_ale, args=(seconds, frame_skip, k, queue)) for k in range(processes)]
    for p in procs:
        p.start()
    rates = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return float(sum(rates))


def ours(seconds: float, num_envs: int, num_workers: int, frame_skip: int) -> tuple[float, int]:
    """gamerl REINFORCE agent steps/s (training included) over ``seconds``; also the episodes finished."""
    from gamerl.algorithms.pg.reinforce import train_reinforce
    from gamerl.config.pg import PGConfig
    from gamerl.training.checkpoints import load_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        config = PGConfig(
            runs_dir=Path(tmp),
            run_name="bench",
            episodes=10**6,
            max_minutes=seconds / 60,
            num_envs=num_envs,
            num_workers=num_workers,
            frame_skip=frame_skip,
            checkpoint_every=10**6,
            progress=False,
        )
        run_dir = train_reinforce(config)
        counters = load_checkpoint(run_dir / "checkpoints" / "last.pt", "pg")["counters"]
    return counters["steps"] / counters["elapsed"], counters["episodes"]


def main() -> None:
    """Parse the flags, time both sides and print their steps/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="wall-clock per measurement")
    parser.add_argument("--num-envs", type=int, default=16, help="games gamerl plays in parallel")
    parser.add_argument("--num-workers", type=int, default=1, help="gamerl worker processes besides the learner")
    parser.add_argument("--frame-skip", type=int, default=4)
    args = parser.parse_args()
    processes = args.num_workers + 1

    import karpathy_numpy

    ceiling = raw_ceiling(args.seconds, processes, args.frame_skip)
    ours_sps, ours_episodes = ours(args.seconds, args.num_envs, args.num_workers, args.frame_skip)
    numpy_result = karpathy_numpy.run(args.seconds, frame_skip=args.frame_skip)

    rows = [
        (f"(a) raw ALE Pong, random actions, {processes} processes", ceiling, "-"),
        (f"(b) gamerl REINFORCE, {args.num_envs} games, {processes} processes", ours_sps, str(ours_episodes)),
        ("(c) the post's NumPy REINFORCE, 1 process", numpy_result["steps_per_s"], str(numpy_result["episodes"])),
    ]
    print(f"Pong, frame skip {args.frame_skip}, {args.seconds:.0f} s each, {mp.cpu_count()} cores")
    print(f"{'what':58s} {'agent steps/s':>14s} {'episodes':>9s}")
    for name, sps, episodes in rows:
        print(f"{name:58s} {sps:14,.0f} {episodes:>9s}")
    print(f"ours / stepping ceiling: {ours_sps / ceiling:.2f}")
    print(f"ours / numpy baseline:   {ours_sps / numpy_result['steps_per_s']:.2f}")
    print(f"ratio: {ours_sps / numpy_result['steps_per_s']:.2f}")


if __name__ == "__main__":
    main()
