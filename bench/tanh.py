"""PPO's MLP activation: ``nn.Tanh`` against gamerl's ``Tanh`` (2·sigmoid(2x) − 1 on the CPU), one run.

Times forward and forward + backward at the activation shapes of our presets (CartPole's 64-unit layers
at a rollout step, a minibatch of 256 and one of 1,024; Derk's 512-unit first layer at a minibatch of
3,600), one torch thread, in CPU time of this process (other jobs on the machine barely move it), the
two sides interleaved. Prints a table and a last line ``ratio: X``, our summed forward + backward time
over ``nn.Tanh``'s.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from torch import nn

from gamerl.algorithms.ppo.networks import Tanh

SHAPES = ((32, 64), (256, 64), (1024, 64), (3600, 512))


def seconds_per_call(fn: Callable[[], object], repeats: int) -> float:
    """Mean CPU time of ``fn()`` over ``repeats`` calls, after two warm-up calls."""
    fn(), fn()
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - start) / repeats


def main() -> None:
    """Time both activations at every shape, alternating rounds, and print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per shape and side")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    sides = {"nn.Tanh": nn.Tanh(), "gamerl Tanh": Tanh()}
    print("| shape | side | forward µs | forward + backward µs |\n|---|---|---|---|")
    totals = dict.fromkeys(sides, 0.0)
    for shape in SHAPES:
        x = torch.randn(*shape, requires_grad=True)
        grad = torch.randn(*shape)
        repeats = max(3, 200_000 // x.numel())
        times: dict[str, list[float]] = {name: [0.0, 0.0] for name in sides}
        for _ in range(args.rounds):
            for name, act in sides.items():
                with torch.no_grad():
                    times[name][0] += seconds_per_call(lambda act=act, x=x: act(x), repeats) / args.rounds
                times[name][1] += (
                    seconds_per_call(lambda act=act, x=x, g=grad: act(x).backward(g), repeats) / args.rounds
                )
        for name, (forward, both) in times.items():
            totals[name] += both
            print(f"| {shape[0]} x {shape[1]} | {name} | {forward * 1e6:.1f} | {both * 1e6:.1f} |")
    print(f"ratio: {totals['gamerl Tanh'] / totals['nn.Tanh']:.3f}")


if __name__ == "__main__":
    main()
