"""A PPO update on the CPU: MKL's float32 matmuls against oneDNN's, one run, this machine.

Updates of a preset's networks (default ``derk-offensive``: 10 epochs x 4 minibatches over 57,600 samples,
one 128-arena rollout; ``--preset cartpole`` for its 64-wide networks) on random observations, with
PyTorch's default kernels (MKL) and with float32 matmuls routed to oneDNN
(``torch.set_float32_matmul_precision("medium")``, checked to keep float32 accuracy), in ``--rounds``
alternating rounds with the preset's torch threads. Prints whether training would use oneDNN for these
networks (:func:`gamerl.training.cpu_kernels.fast_cpu_matmul`), oneDNN's first use in the process, each
round, each side's rate in GFLOP/s (the update's matmul FLOPs counted by
:class:`torch.utils.flop_counter.FlopCounterMode`) beside the rate of large square float32 products with
the same kernels (about the most this CPU gives), and the last line ``ratio: X`` (oneDNN's summed time /
MKL's). A third side times the update with the MLPs' hidden layers in bfloat16 (``--mlp-precision
bfloat16``) through oneDNN, and prints its summed time / oneDNN float32's.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import time
from collections.abc import Callable

import gymnasium as gym
import torch
from torch.utils.flop_counter import FlopCounterMode

from gamerl.algorithms.ppo.heads import heads_for_space
from gamerl.algorithms.ppo.networks import ActorCritic
from gamerl.algorithms.ppo.session import build_model
from gamerl.algorithms.ppo.train import Batch, make_optimizers, update
from gamerl.config.ppo import DERK_ENV_ID, PRESETS, PPOConfig
from gamerl.envs import derk
from gamerl.training.cpu_kernels import fast_cpu_matmul, onednn_matmul
from machine import describe_cpu

MLP_PRESETS = ("derk-offensive", "cartpole")


def preset_model(config: PPOConfig) -> ActorCritic:
    """Fresh networks of the preset for its env's observation and action spaces, seeded."""
    if config.env_id == DERK_ENV_ID:
        obs_shape, action_space = (derk.OBS_SIZE,), derk.action_space()
    else:
        env = gym.make(config.env_id)
        obs_shape, action_space = env.observation_space.shape, env.action_space
        env.close()
    torch.manual_seed(0)
    return build_model(config, obs_shape, heads_for_space(action_space, config.continuous, config.bins))


def rollout_samples(config: PPOConfig) -> int:
    """Samples of one rollout of the preset (Derk: its three home derklings per arena)."""
    return config.num_envs * config.num_steps * (3 if config.env_id == DERK_ENV_ID else 1)


def fresh_update(config: PPOConfig, samples: int) -> Callable[[], None]:
    """One update of fresh preset networks on ``samples`` random samples, ready to run (and run again)."""
    model = preset_model(config)
    optimizers = make_optimizers(model, config)
    obs = torch.randn(samples, *model.obs_shape)
    with torch.no_grad():
        dist, _ = model(obs)
        actions = dist.sample()
        batch = Batch(obs, actions.float(), dist.log_prob(actions), torch.randn(samples), torch.randn(samples))
    generator = torch.Generator().manual_seed(0)
    return lambda: update(model, optimizers, batch, config, generator)


def run_updates(config: PPOConfig, kernels: contextlib.AbstractContextManager, samples: int, repeats: int) -> float:
    """Seconds of ``repeats`` updates of fresh preset networks on ``samples`` random samples, inside ``kernels``."""
    run = fresh_update(config, samples)
    with kernels:
        start = time.perf_counter()
        for _ in range(repeats):
            run()
        return time.perf_counter() - start


def update_flops(config: PPOConfig, samples: int) -> int:
    """Matmul FLOPs (forward and backward) of one update on ``samples`` samples: counted on at most 1,600
    samples and scaled, as every product's FLOPs grow linearly with the minibatch rows."""
    counted = min(samples, 1600)
    run = fresh_update(config, counted)
    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops() * samples // counted


def square_product_gflops(kernels: contextlib.AbstractContextManager, size: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of ``repeats`` float32 products of two ``(size, size)`` matrices inside ``kernels``."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    with kernels:
        a @ b  # the kernel's first use, not timed
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        seconds = time.perf_counter() - start
    return 2 * size**3 * repeats / seconds / 1e9


def update_bench_parser(description: str) -> argparse.ArgumentParser:
    """The options of a bench that times preset updates: ``--preset``, ``--rounds``, ``--repeats`` and
    ``--torch-threads``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--preset", choices=MLP_PRESETS, default=MLP_PRESETS[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1, help="updates timed per round and side")
    parser.add_argument("--torch-threads", type=int, help="default: the preset's")
    return parser


def main() -> None:
    """Alternate the two sides and print the ratio."""
    parser = update_bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, help="samples per update (default: one rollout of the preset)")
    args = parser.parse_args()
    print(describe_cpu())
    config = PRESETS[args.preset][1]
    samples = args.samples or rollout_samples(config)
    threads = args.torch_threads or config.torch_threads
    torch.set_num_threads(threads)
    probe_ms = []
    for _ in range(2):
        start = time.perf_counter()
        with onednn_matmul() as used:  # the accuracy probe: oneDNN's first products in this process, then again
            probe_ms.append((time.perf_counter() - start) * 1e3)
        if not used:
            raise SystemExit("oneDNN computes in lower precision on this CPU: training keeps MKL here")
    print(f"oneDNN's accuracy probe, its first use in this process: {probe_ms[0]:.1f} ms, again: {probe_ms[1]:.1f} ms")
    with fast_cpu_matmul(torch.device("cpu"), preset_model(config)) as used:
        print(f"training uses oneDNN for {args.preset}'s networks on this CPU: {used}")
    first, again = (run_updates(config, onednn_matmul(), samples, 1) for _ in range(2))
    print(f"oneDNN's first update in this process: {first:.3f} s, the next: {again:.3f} s")
    bf16 = dataclasses.replace(config, mlp_precision="bfloat16")
    print(
        f"| round | MKL s | oneDNN s | oneDNN, bfloat16 hidden layers s |  ({args.repeats} x {samples} samples, "
        f"{threads} torch threads)\n|---|---|---|---|"
    )
    totals = [0.0, 0.0, 0.0]
    for round_ in range(1, args.rounds + 1):
        times = (
            run_updates(config, contextlib.nullcontext(), samples, args.repeats),
            run_updates(config, onednn_matmul(), samples, args.repeats),
            run_updates(bf16, onednn_matmul(), samples, args.repeats),
        )
        totals = [total + t for total, t in zip(totals, times, strict=True)]
        print(f"| {round_} | " + " | ".join(f"{t:.3f}" for t in times) + " |", flush=True)
    gflop = update_flops(config, samples) / 1e9
    square = [square_product_gflops(contextlib.nullcontext()), square_product_gflops(onednn_matmul())]
    print(f"an update: {gflop:.3g} GFLOP in matmuls")
    for side, total, best in (("MKL", totals[0], square[0]), ("oneDNN", totals[1], square[1])):
        rate = gflop * args.rounds * args.repeats / total
        print(f"{side}: {rate:.0f} GFLOP/s in the update; 2048 x 2048 products: {best:.0f} GFLOP/s ({rate / best:.0%})")
    print(f"bfloat16 hidden layers / oneDNN float32: {totals[2] / totals[1]:.3f}")
    print(f"ratio: {totals[1] / totals[0]:.3f}")


if __name__ == "__main__":
    main()
