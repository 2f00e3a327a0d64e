"""A PPO update with bfloat16 hidden layers on the CPU: each layer as one oneDNN matmul with its tanh fused in
(gamerl's ``MLP``) against autocast's matmul, then the tanh as passes of their own, one run, this machine.

Updates of a preset's networks (default ``derk-offensive``: 10 epochs x 4 minibatches over 57,600 samples,
one 128-arena rollout) on random observations with ``--mlp-precision bfloat16``, in ``--rounds`` alternating
rounds with the preset's torch threads. The autocast side runs the same code with the fusion turned off
(:func:`gamerl.algorithms.ppo.networks.onednn_bfloat16` answering False). Prints each round and the last
line ``ratio: X``, the fused side's summed time over autocast's.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import torch

from gamerl.algorithms.ppo import networks
from gamerl.config.ppo import PRESETS
from machine import describe_cpu
from update_kernels import rollout_samples, run_updates, update_bench_parser


@contextlib.contextmanager
def autocast_layers() -> Iterator[None]:
    """Inside: MLPs compute their bfloat16 hidden layers under autocast, unfused."""
    fused = networks.onednn_bfloat16
    networks.onednn_bfloat16 = lambda device: False
    try:
        yield
    finally:
        networks.onednn_bfloat16 = fused


def main() -> None:
    """Alternate the two sides and print the ratio."""
    args = update_bench_parser(__doc__.splitlines()[0]).parse_args()
    print(describe_cpu())
    if not networks.onednn_bfloat16(torch.device("cpu")):
        raise SystemExit("oneDNN has no bfloat16 on this CPU: gamerl's MLPs do not fuse their layers here")
    config = dataclasses.replace(PRESETS[args.preset][1], mlp_precision="bfloat16")
    samples = rollout_samples(config)
    threads = args.torch_threads or config.torch_threads
    torch.set_num_threads(threads)
    sides = {"autocast": autocast_layers, "fused": contextlib.nullcontext}
    for kernels in sides.values():  # each side's first update (oneDNN's kernels made), not timed
        run_updates(config, kernels(), samples, 1)
    print(f"| round | autocast s | fused s |  ({args.repeats} x {samples} samples, {threads} torch threads)")
    print("|---|---|---|")
    totals = dict.fromkeys(sides, 0.0)
    for round_ in range(1, args.rounds + 1):
        times = [run_updates(config, kernels(), samples, args.repeats) for kernels in sides.values()]
        for name, seconds in zip(sides, times, strict=True):
            totals[name] += seconds
        print(f"| {round_} | " + " | ".join(f"{t:.3f}" for t in times) + " |", flush=True)
    print(f"ratio: {totals['fused'] / totals['autocast']:.3f}")


if __name__ == "__main__":
    main()
