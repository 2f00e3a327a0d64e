"""PPO speed: gamerl against stable-baselines3 with the same hyperparameters, one run each, this machine.

CartPole-v1 (default): wall-clock until the mean return of the last 20 episodes reaches 475, both with
the ``cartpole`` preset's hyperparameters (``--num-envs``, ``--num-steps``, ``--epochs``, ``--minibatches``
and ``--lr`` change them) and one torch thread, one run per side and seed (``--seeds``, alternating
sides); the ratio is of the summed times, and steps/s separates speed from sample efficiency. The
issue's target: ours <= 0.25x SB3. One difference is not a hyperparameter: ours clips the policy's and
the value network's gradients each to ``max_grad_norm`` (they have their own optimizers), SB3 clips
their joint gradient, where the value's dominates; ``--max-grad-norm 1e6`` takes clipping out of both.
``--pong``: Atari Pong through ``ale_py.AtariVectorEnv``, training agent-steps/s over 3 rollouts of
8 games x 128 steps, the same Atari hyperparameters and ``--torch-threads`` on both sides, in ``--rounds``
alternating rounds; ours twice, its convolutions in float32 and as the preset computes them (``auto``:
bfloat16 on CPUs with native bfloat16); the ratio is of the mean rates; target: ours >= 4x SB3.
``--device cuda`` runs both sides' networks on the GPU (default: cpu).
``--derk N``: Derk with N arenas, training agent-steps/s (2 updates: rollout and update) against playing
2 games of the raw env with random actions, each side from a fresh browser, in ``--rounds`` alternating
rounds (the game's speed varies from minute to minute); the ratio is of the mean rates; target >= 0.8.
A second column gives the training sides' rollouts alone, splitting the ratio into rollouts / raw (acting
and bookkeeping) and training / rollouts (the update).
``--mlp-precision float32 bfloat16`` adds a training side per precision of the MLPs' hidden layers, one
ratio each (default: the preset's alone). ``--derk-webgl swiftshader llvmpipe`` runs the raw and training
sides on each WebGL backend (where the game simulates), a ratio for each against its own raw game, and
prints the last backend's raw and training rates over the first's.

Needs ``pip install stable-baselines3 opencv-python-headless`` (with torch already installed).
Prints a table and a last line ``ratio: X`` (CartPole: our summed time / SB3's; Pong: our steps/s with the
preset's precision / SB3's; Derk: training / raw, of the last precision listed).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import numpy as np
import torch

from gamerl.algorithms.ppo.networks import computes_in_bfloat16
from gamerl.algorithms.ppo.train import train_ppo
from gamerl.config.ppo import PRESETS, PPOConfig, Precision
from gamerl.envs.derk import WEBGL_CHOICES
from gamerl.training.logger import read_metrics
from machine import describe_cpu

TARGET = 475.0


def _sb3_hyperparameters(c: PPOConfig, seed: int) -> dict[str, Any]:
    """SB3 ``PPO`` keyword arguments equal to our config ``c`` (one batch = all envs' steps / minibatches)."""
    return {
        "n_steps": c.num_steps,
        "batch_size": c.num_envs * c.num_steps // c.minibatches,
        "n_epochs": c.epochs,
        "gamma": c.gamma,
        "gae_lambda": c.gae_lambda,
        "clip_range": c.clip,
        "ent_coef": c.ent_coef,
        "learning_rate": c.policy_lr,
        "max_grad_norm": c.max_grad_norm,
        "vf_coef": 1.0,  # our loss adds the value loss unweighted
        "seed": seed,
        "device": c.device,
    }


def sb3_cartpole(c: PPOConfig, seed: int, budget_s: float) -> tuple[float, int]:
    """(seconds, env steps) SB3 PPO takes to reach the target with the hyperparameters of config ``c``."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    class StopAtTarget(BaseCallback):
        def _on_step(self) -> bool:
            recent = [e["r"] for e in list(self.model.ep_info_buffer)[-20:]]
            return not (len(recent) == 20 and np.mean(recent) >= TARGET) and time.perf_counter() - start < budget_s

    start = time.perf_counter()
    env = make_vec_env("CartPole-v1", n_envs=c.num_envs, seed=seed)
    model = PPO(
        "MlpPolicy",
        env,
        **_sb3_hyperparameters(c, seed),
        policy_kwargs={"net_arch": {"pi": list(c.policy_hidden), "vf": list(c.value_hidden)}},
    )
    model.learn(total_timesteps=10_000_000, callback=StopAtTarget())
    return time.perf_counter() - start, model.num_timesteps


def ours_cartpole(c: PPOConfig, seed: int, budget_s: float) -> tuple[float, int]:
    """(seconds, env steps) gamerl's PPO takes to reach the target with config ``c``."""
    with tempfile.TemporaryDirectory() as tmp:
        config = dataclasses.replace(
            c,
            seed=seed,
            updates=100_000,
            target_return=TARGET,
            max_minutes=budget_s / 60,
            runs_dir=Path(tmp),
            progress=False,
            checkpoint_every=100_000,
        )
        start = time.time()
        run_dir = train_ppo(config)
        last = read_metrics(run_dir)[-1]
        return last["time"] - start, last["step"]  # until the update that reached the target (not the figures)


def mean_metric(run_dir: Path, key: str) -> float:
    """Mean of ``key`` over the records of a finished run (one per update)."""
    return float(np.mean([r[key] for r in read_metrics(run_dir)]))


PONG = dataclasses.replace(PRESETS["atari"][1], updates=3, progress=False)
"""the ``atari`` preset (SB3's ``CnnPolicy`` network, CleanRL's settings), 3 updates"""


def sb3_pong(c: PPOConfig, seed: int) -> float:
    """SB3 ``CnnPolicy`` training steps/s on AtariVectorEnv-equivalent frames (its Atari wrappers), config ``c``."""
    import ale_py
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)  # the ALE/ ids
    # v5 ids skip 4 frames themselves; SB3's AtariWrapper skips (and max-pools) 4 more unless the env's are off
    atari = make_atari_env("ALE/Pong-v5", n_envs=c.num_envs, seed=seed, env_kwargs={"frameskip": 1})
    env = VecFrameStack(atari, n_stack=4)
    model = PPO(
        "CnnPolicy",
        env,
        **_sb3_hyperparameters(c, seed),
    )
    steps = c.updates * c.num_envs * c.num_steps
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    return steps / (time.perf_counter() - start)


def ours_pong(c: PPOConfig, seed: int) -> float:
    """gamerl PPO training steps/s on Pong with config ``c`` (mean of ``charts/SPS`` over the updates; the
    first includes the first use of the kernels, as SB3's time does)."""
    with tempfile.TemporaryDirectory() as tmp:
        return mean_metric(train_ppo(dataclasses.replace(c, seed=seed, runs_dir=Path(tmp))), "charts/SPS")


def derk_raw(n_arenas: int, games: int, webgl: str) -> tuple[float, float]:
    """Raw game agent-steps/s, home agents counted: random actions for both teams through ``games`` whole
    games from a fresh browser whose WebGL runs on ``webgl``, each followed by the start of the next, as a
    training rollout is (twice: there is no update, so it is its own rollout rate)."""
    from gamerl.algorithms.ppo.opponents import RandomTeam
    from gamerl.envs.derk import DerkBatch, DerkSettings

    with DerkBatch(DerkSettings(n_arenas=n_arenas, webgl=webgl)) as batch:
        batch.reset()
        rng, start, steps = RandomTeam(0), time.perf_counter(), 0
        for _ in range(games):
            done = False
            while not done:
                done = batch.step(rng.act(np.zeros((6 * n_arenas, 64), np.float32)))[2]
                steps += 1
            batch.reset()
        rate = 3 * n_arenas * steps / (time.perf_counter() - start)
        return rate, rate


def derk_training(
    n_arenas: int, updates: int, device: str, torch_threads: int, mlp_precision: str, webgl: str
) -> tuple[float, float]:
    """Training agent-steps/s (rollout and update) of the ``derk-offensive`` preset over ``updates`` updates
    (one game each) from a fresh browser whose WebGL runs on ``webgl``, and its rollouts' alone; the
    learner's updates use ``torch_threads`` threads (the browser is idle while they run) and compute the
    hidden layers in ``mlp_precision``."""
    with tempfile.TemporaryDirectory() as tmp:
        config = dataclasses.replace(
            PRESETS["derk-offensive"][1],
            num_envs=n_arenas,
            updates=updates,
            runs_dir=Path(tmp),
            progress=False,
            device=device,
            torch_threads=torch_threads,
            mlp_precision=mlp_precision,
            derk_webgl=webgl,
        )
        run_dir = train_ppo(config)
        return mean_metric(run_dir, "charts/SPS"), mean_metric(run_dir, "charts/rollout_SPS")


def derk_side_name(webgl: str, kind: str, device: str) -> str:
    """The table's name of a Derk side: the raw game, or training with ``kind`` hidden-layer precision."""
    if kind == "raw":
        return f"raw game, random actions, WebGL {webgl}"
    computes = "bfloat16" if computes_in_bfloat16(kind, torch.device(device)) else "float32"
    return f"gamerl PPO training, WebGL {webgl}, {kind} ({computes}) hidden layers"


def main() -> None:
    """Run the comparison and print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="Pong and Derk")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="CartPole: one run per side and seed")
    parser.add_argument("--budget-s", type=float, default=600.0, help="give up on a run after this long")
    parser.add_argument("--derk", type=int, default=0, help="arenas: benchmark Derk instead of CartPole")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="Derk: the learner's torch threads (default: the preset's); Pong: both sides' (default: 1)",
    )
    parser.add_argument(
        "--mlp-precision",
        choices=get_args(Precision),
        nargs="+",
        default=[PRESETS["derk-offensive"][1].mlp_precision],
        help="Derk's learner (default: the preset's)",
    )
    parser.add_argument(
        "--derk-webgl",
        choices=WEBGL_CHOICES,
        nargs="+",
        default=["auto"],
        help="Derk: the WebGL backends to run the game on, a raw side and training sides for each",
    )
    parser.add_argument("--rounds", type=int, default=2, help="Derk and Pong: alternating rounds of the sides")
    parser.add_argument("--pong", action="store_true", help="benchmark Atari Pong instead of CartPole")
    parser.add_argument("--num-envs", type=int, default=None, help="CartPole: games per rollout (default: preset's)")
    parser.add_argument("--num-steps", type=int, default=None, help="CartPole: steps per rollout (default: preset's)")
    parser.add_argument("--epochs", type=int, default=None, help="CartPole: passes per rollout (default: preset's)")
    parser.add_argument("--minibatches", type=int, default=None, help="CartPole: minibatches (default: preset's)")
    parser.add_argument("--lr", type=float, default=None, help="CartPole: both learning rates (default: preset's)")
    parser.add_argument("--max-grad-norm", type=float, default=None, help="CartPole: gradient clip (default: preset's)")
    parser.add_argument("--updates", type=int, default=PONG.updates, help="Pong: updates per side")
    parser.add_argument("--device", default="cpu", help="torch device of both sides: cpu, cuda (SB3's spelling too)")
    args = parser.parse_args()
    print(describe_cpu())
    torch.set_num_threads(1)
    # torch imports its compiler lazily on the first optimizer built (seconds): not for either side to pay
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    if args.derk:
        threads = args.torch_threads or PRESETS["derk-offensive"][1].torch_threads
        print(f"| Derk, {args.derk} arenas, {threads} torch threads | round | agent-steps/s | rollouts alone |")
        print("|---|---|---|---|")
        games = 2  # per side and round: raw games, training updates (one game each)
        derk_sides: dict[tuple[str, str], Callable[[], tuple[float, float]]] = {}
        for webgl in args.derk_webgl:
            derk_sides[webgl, "raw"] = functools.partial(derk_raw, args.derk, games, webgl)
            for precision in args.mlp_precision:
                derk_sides[webgl, precision] = functools.partial(
                    derk_training, args.derk, games, args.device, threads, precision, webgl
                )
        rates: dict[tuple[str, str], list[tuple[float, float]]] = {side: [] for side in derk_sides}
        for round_ in range(1, args.rounds + 1):  # alternating, so a slow spell of the machine hits every side
            for (webgl, kind), run in derk_sides.items():
                rates[webgl, kind].append(run())
                rate, rollout = rates[webgl, kind][-1]
                name = derk_side_name(webgl, kind, args.device)
                print(f"| {name} | {round_} | {rate:.1f} | {rollout:.1f} |", flush=True)
        means = {side: np.mean(r, axis=0) for side, r in rates.items()}
        for webgl in args.derk_webgl:
            raw = means[webgl, "raw"][0]
            for precision in args.mlp_precision:
                rate, rollout = means[webgl, precision]
                print(
                    f"WebGL {webgl}: raw {raw:.1f}, training with {precision} hidden layers {rate:.1f}: ratio "
                    f"{rate / raw:.3f} (rollouts / raw {rollout / raw:.3f} x training / rollouts {rate / rollout:.3f})"
                )
        first, last = args.derk_webgl[0], args.derk_webgl[-1]
        if first != last:
            print(f"raw game, {last} / {first}: {means[last, 'raw'][0] / means[first, 'raw'][0]:.3f}")
            trained = means[last, args.mlp_precision[-1]][0] / means[first, args.mlp_precision[-1]][0]
            print(f"training, {last} / {first}: {trained:.3f}")
        print(f"ratio: {means[last, args.mlp_precision[-1]][0] / means[last, 'raw'][0]:.3f}")
        return
    if args.pong:
        threads = args.torch_threads or 1
        pong = dataclasses.replace(PONG, updates=args.updates, device=args.device, torch_threads=threads)
        sides = {
            "stable-baselines3 CnnPolicy": lambda: sb3_pong(pong, args.seed),
            "gamerl PPO, float32 convolutions": lambda: ours_pong(
                dataclasses.replace(pong, pixel_precision="float32"), args.seed
            ),
            f"gamerl PPO, the preset's ({PONG.pixel_precision})": lambda: ours_pong(pong, args.seed),
        }
        print(
            f"| Pong, {pong.num_envs} games x {pong.num_steps} steps x {pong.updates} updates, {args.device}, "
            f"{threads} torch threads | round | agent-steps/s |\n|---|---|---|"
        )
        pong_rates: dict[str, list[float]] = {side: [] for side in sides}
        for round_ in range(1, args.rounds + 1):
            for side, run in sides.items():
                torch.set_num_threads(threads)  # train_ppo sets its config's; SB3 uses the process's
                pong_rates[side].append(run())
                print(f"| {side} | {round_} | {pong_rates[side][-1]:.1f} |", flush=True)
        sb3, fp32, ours = (float(np.mean(r)) for r in pong_rates.values())
        print(f"mean agent-steps/s: SB3 {sb3:.1f}, ours float32 {fp32:.1f}, ours {ours:.1f}")
        print(f"ratio with float32 convolutions: {fp32 / sb3:.3f}")
        print(f"ratio: {ours / sb3:.3f}")
        return
    preset = PRESETS["cartpole"][1]
    cartpole = dataclasses.replace(
        preset,
        num_envs=args.num_envs or preset.num_envs,
        num_steps=args.num_steps or preset.num_steps,
        epochs=args.epochs or preset.epochs,
        minibatches=args.minibatches or preset.minibatches,
        policy_lr=args.lr or preset.policy_lr,
        value_lr=args.lr or preset.value_lr,
        max_grad_norm=args.max_grad_norm or preset.max_grad_norm,
        device=args.device,
    )
    print(f"{cartpole.num_envs} games x {cartpole.num_steps} steps, {cartpole.epochs} epochs x "
          f"{cartpole.minibatches} minibatches, learning rate {cartpole.policy_lr:g}, gradient clip "
          f"{cartpole.max_grad_norm:g}, both sides\n")  # fmt: skip
    print(f"| CartPole-v1 seed | side | seconds to a mean return of {TARGET:.0f} (last 20 episodes) | env steps |")
    print("|---|---|---|---|")
    totals = {"sb3": [0.0, 0], "gamerl": [0.0, 0]}
    for seed in args.seeds:
        for side, run in (("gamerl", ours_cartpole), ("sb3", sb3_cartpole)):
            seconds, steps = run(cartpole, seed, args.budget_s)
            totals[side][0] += seconds
            totals[side][1] += steps
            print(f"| {seed} | {side} | {seconds:.1f} | {steps} |", flush=True)
    (ours, ours_steps), (sb3, sb3_steps) = totals["gamerl"], totals["sb3"]
    ours_rate, sb3_rate = ours_steps / ours, sb3_steps / sb3
    print(f"steps/s: gamerl {ours_rate:.0f}, sb3 {sb3_rate:.0f} (x{ours_rate / sb3_rate:.2f})")
    print(f"ratio: {ours / sb3:.3f}")


if __name__ == "__main__":
    main()
