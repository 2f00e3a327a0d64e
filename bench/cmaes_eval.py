"""Fitness evaluations/s of World Models' controller search, side by side in one run, on the same V and M.

* real: rollouts in the real game (Airstriker) on a local pool of 1 and of 2 worker processes, and on Ray
  with 2 actors against the local pool with 2 (Ray's overhead);
* dream, per rollout: one dream after another, stepping M with a batch of 1 (what public implementations
  do, one dream env per worker);
* dream, batched: the whole population × rollouts as one tensor batch (``gamerl train controller --mode dream``).

The same tasks (candidates, seeds) go to both sides of each pair; each pair is measured in alternating
rounds so that a changing machine load hits both alike. Worker start-up (loading V and M, making the game)
is excluded: the pools are warmed up first.

    python bench/cmaes_eval.py [--run RUN_DIR] [--population 64] [--rollouts 4] [--no-ray]

Without ``--run`` it first builds a small real World Models run on Airstriker (collect, V, encode, M).
The last line is ``ratio: X`` = batched dream evaluations/s over the per-rollout dream's.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from gamerl.algorithms.worldmodels.agent import DreamEvaluator, RealRollouts, controller_spec, load_world_model
from gamerl.algorithms.worldmodels.collect import collect, make_env
from gamerl.algorithms.worldmodels.control import make_dream
from gamerl.algorithms.worldmodels.encode import encode_store
from gamerl.algorithms.worldmodels.mdn import train_mdn
from gamerl.algorithms.worldmodels.vae import train_vae
from gamerl.config.worldmodels import CollectConfig, ControllerConfig, MDNConfig, VAEConfig
from gamerl.evolution.evaluators import Evaluator, LocalPoolEvaluator, RolloutTask


def build_run(root: Path) -> Path:
    """A small real run: 1,000 sticky-random Airstriker steps, V one epoch, M (256 units) 100 updates."""
    store = root / "store"
    collect(CollectConfig(store, policy="sticky", steps=1000, max_episode_steps=250, progress=False))
    run = train_vae(VAEConfig(store=store, runs_dir=root / "runs", run_name="bench", epochs=1, progress=False))
    encode_store(run)
    train_mdn(run, MDNConfig(sequence_length=64, updates=100, eval_every=100, progress=False))
    return run


def rate(evaluator: Evaluator, tasks: Sequence[RolloutTask]) -> tuple[float, int]:
    """(evaluations/s, agent steps) of one pass over ``tasks``."""
    start = time.perf_counter()
    results = evaluator.evaluate(tasks)
    return len(tasks) / (time.perf_counter() - start), sum(r.steps for r in results)


def side_by_side(
    a: Callable[[], tuple[float, int]], b: Callable[[], tuple[float, int]], rounds: int
) -> tuple[float, float]:
    """Median rates of ``a`` and ``b`` over ``rounds`` alternating rounds (a, b, b, a, ...)."""
    ra, rb = [], []
    for i in range(rounds):
        for f, out in ((a, ra), (b, rb)) if i % 2 == 0 else ((b, rb), (a, ra)):
            out.append(f()[0])
    return float(np.median(ra)), float(np.median(rb))


def main() -> None:
    """Parse the flags, build or load the run, measure each pair and print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="World Models run with trained V and M (default: build one)")
    parser.add_argument("--population", type=int, default=64)
    parser.add_argument("--rollouts", type=int, default=4)
    parser.add_argument("--dream-steps", type=int, default=300, help="dream horizon (agent steps)")
    parser.add_argument("--per-rollout-sample", type=int, default=16, help="dreams timed one by one per round")
    parser.add_argument("--real-tasks", type=int, default=8, help="real-game rollouts per round")
    parser.add_argument("--real-steps", type=int, default=150, help="agent steps per real rollout")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray comparison")
    args = parser.parse_args()
    torch.set_num_threads(1)
    run = args.run or build_run(Path(tempfile.mkdtemp(prefix="gamerl_bench_")))
    model = load_world_model(run)
    env = make_env(model.env_id, model.frame_skip)
    spec = controller_spec(model, env.action_space, "zh", 0)
    env.close()
    rng = np.random.default_rng(0)
    params = (rng.normal(size=(args.population, spec.n_params)) * 0.1).astype(np.float32)
    tasks = [RolloutTask(c, params[c], 1000 + r) for c in range(args.population) for r in range(args.rollouts)]

    dream = make_dream(model, run, ControllerConfig(), args.dream_steps)
    batched = DreamEvaluator(dream, spec, "zh", batched=True)
    one_by_one = DreamEvaluator(dream, spec, "zh", batched=False)
    # spread over candidates and seeds: dream lengths differ by candidate, and the per-rollout side's rate
    # must be measured on dreams as long, on average, as the batch's
    sample = tasks[:: max(1, len(tasks) // args.per_rollout_sample)][: args.per_rollout_sample]
    _, dream_steps = rate(batched, tasks)
    _, sample_steps = rate(one_by_one, sample)
    loop_rate, batched_rate = side_by_side(lambda: rate(one_by_one, sample), lambda: rate(batched, tasks), args.rounds)

    real_tasks = tasks[: args.real_tasks]
    settings = RealRollouts(run, model.env_id, max_steps=args.real_steps)
    rows = [("dream, per rollout", loop_rate, "dream, batched", batched_rate)]
    with LocalPoolEvaluator(settings, 1) as one, LocalPoolEvaluator(settings, 2) as two:
        rate(one, real_tasks[:2]), rate(two, real_tasks[:2])  # warm-up
        one_rate, two_rate = side_by_side(lambda: rate(one, real_tasks), lambda: rate(two, real_tasks), args.rounds)
        rows.append(("real, local pool x1", one_rate, "real, local pool x2", two_rate))
        if not args.no_ray:
            import ray

            from gamerl.evolution.ray_evaluator import RayEvaluator

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            with RayEvaluator(settings, 2) as cluster:
                rate(cluster, real_tasks[:2])
                local_rate, ray_rate = side_by_side(
                    lambda: rate(two, real_tasks), lambda: rate(cluster, real_tasks), args.rounds
                )
            ray.shutdown()
            rows.append(("real, local pool x2", local_rate, "real, Ray x2", ray_rate))

    print(f"{args.population} candidates x {args.rollouts} rollouts, C {spec.n_params} parameters, "
          f"M {model.cell.hidden} units; dream: {dream_steps / len(tasks):.0f} steps per dream on average "
          f"({sample_steps / len(sample):.0f} in the per-rollout sample; horizon {args.dream_steps}); "
          f"real: {args.real_steps} steps per rollout ({model.env_id})")  # fmt: skip
    print(f"{'baseline':24s} {'evals/s':>9s}   {'compared':24s} {'evals/s':>9s} {'ratio':>7s}")
    for name_a, a, name_b, b in rows:
        print(f"{name_a:24s} {a:9.2f}   {name_b:24s} {b:9.2f} {b / a:7.2f}")
    if not args.no_ray:
        print(f"Ray overhead vs the local pool: {100 * (local_rate / ray_rate - 1):.1f} %")
    print(f"ratio: {batched_rate / loop_rate:.2f}")


if __name__ == "__main__":
    main()
