"""A Derk-sized PPO update on the CPU: MKL's float32 matmuls against oneDNN's, one run, this machine.

One update of the ``derk-offensive`` preset (10 epochs x 4 minibatches over 57,600 samples, one 128-arena
rollout, random observations) through its networks, with PyTorch's default kernels (MKL) and inside
:func:`gamerl.training.cpu_kernels.fast_cpu_matmul` (oneDNN where it keeps float32 accuracy), in
``--rounds`` alternating rounds with the preset's torch threads. Prints each round, each side's rate in
GFLOP/s (the update's matmul FLOPs counted by :class:`torch.utils.flop_counter.FlopCounterMode`) beside the
rate of a large square float32 product with the same kernels (about the most this CPU gives), and the last
line ``ratio: X`` (oneDNN's summed time / MKL's).
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from gamerl.algorithms.ppo.heads import heads_for_space
from gamerl.algorithms.ppo.networks import ActorCritic
from gamerl.algorithms.ppo.session import build_model
from gamerl.algorithms.ppo.train import Batch, make_optimizers, update
from gamerl.config.ppo import PRESETS
from gamerl.envs.derk import action_space
from gamerl.training.cpu_kernels import fast_cpu_matmul

CONFIG = PRESETS["derk-offensive"][1]


def derk_model() -> ActorCritic:
    """Fresh networks of the preset, seeded."""
    torch.manual_seed(0)
    return build_model(CONFIG, (64,), heads_for_space(action_space(), CONFIG.continuous, CONFIG.bins))


def onednn() -> contextlib.AbstractContextManager:
    """The training loop's kernel choice for the preset's networks on the CPU."""
    return fast_cpu_matmul(torch.device("cpu"), derk_model())


def run_update(kernels: contextlib.AbstractContextManager, samples: int) -> float:
    """Seconds of one update of fresh preset networks on ``samples`` random samples, inside ``kernels``."""
    model = derk_model()
    optimizers = make_optimizers(model, CONFIG)
    obs = torch.randn(samples, 64)
    with torch.no_grad():
        dist, _ = model(obs)
        actions = dist.sample()
        batch = Batch(obs, actions.float(), dist.log_prob(actions), torch.randn(samples), torch.randn(samples))
    generator = torch.Generator().manual_seed(0)
    with kernels:
        start = time.perf_counter()
        update(model, optimizers, batch, CONFIG, generator)
        return time.perf_counter() - start


def update_flops(samples: int) -> int:
    """Matmul FLOPs (forward and backward) of one update on ``samples`` samples: counted on 1,600 samples
    and scaled, as every product's FLOPs grow linearly with the minibatch rows."""
    counted = 1600
    with FlopCounterMode(display=False) as counter:
        run_update(contextlib.nullcontext(), counted)
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


def main() -> None:
    """Alternate the two sides and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=128 * 3 * 150, help="one rollout's samples")
    parser.add_argument("--torch-threads", type=int, default=CONFIG.torch_threads)
    args = parser.parse_args()
    torch.set_num_threads(args.torch_threads)
    with onednn() as used:
        print(f"oneDNN used for these networks on this CPU: {used}")
    run_update(onednn(), 4096)  # oneDNN's first use in the process, not timed
    print(f"| round | MKL s | oneDNN s |  ({args.samples} samples, {args.torch_threads} torch threads)\n|---|---|---|")
    totals = [0.0, 0.0]
    for round_ in range(1, args.rounds + 1):
        mkl = run_update(contextlib.nullcontext(), args.samples)
        fast = run_update(onednn(), args.samples)
        totals[0] += mkl
        totals[1] += fast
        print(f"| {round_} | {mkl:.2f} | {fast:.2f} |", flush=True)
    gflop = update_flops(args.samples) / 1e9
    square = [square_product_gflops(contextlib.nullcontext()), square_product_gflops(onednn())]
    print(f"an update: {gflop:.0f} GFLOP in matmuls")
    for side, total, best in (("MKL", totals[0], square[0]), ("oneDNN", totals[1], square[1])):
        rate = gflop * args.rounds / total
        print(f"{side}: {rate:.0f} GFLOP/s in the update; 2048 x 2048 products: {best:.0f} GFLOP/s ({rate / best:.0%})")
    print(f"ratio: {totals[1] / totals[0]:.3f}")


if __name__ == "__main__":
    main()
