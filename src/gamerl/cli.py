"""The ``gamerl`` command: ``gamerl train SYSTEM``, ``gamerl evaluate RUN_DIR``, ``gamerl play RUN_DIR``, ...

Each subcommand parses its own frozen-dataclass arguments with tyro, so every field's docstring is its
``--help``. Errors a user can fix (:class:`GamerlError`) print one line and exit with status 2.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import tyro

from gamerl.config.base import KEPT_SITTING_OPTIONS, refuse_changes_on_resume, resume_help
from gamerl.config.pg import PRESETS, PGConfig
from gamerl.errors import GamerlError
from gamerl.training.run import load_run_config

A = TypeVar("A")

USAGE = """usage: gamerl COMMAND [ARGS]   (gamerl COMMAND --help for its options)

commands:
  train pg     train a Pong-from-pixels agent: REINFORCE (the post) or the cross-entropy method
  train ppo    train with clipped PPO: Derk's Gym teams (reward presets, opponents) or Gymnasium envs
  evaluate     play N games with a trained agent; mean ± std and per-episode scores as JSON
  play         record a trained agent playing the real game as GIF or mp4
  plot         plot a metric of one or more runs against episodes and wall-clock
  envs         list the environment ids gamerl knows
  collect      World Models: play a game (random, sticky, JERK, .bk2 replays) into a rollout store
  train vae    World Models: train the vision model V (β-VAE) on a rollout store
  encode       World Models: encode every stored frame to V's μ and log σ² (RUN_DIR/latents.npz)
  train mdn    World Models: train the memory model M (MDN-LSTM) on the encoded latents
  dream        World Models: figures of what M predicts (prediction strip, dream GIF)
  train controller  World Models: evolve the controller C with CMA-ES, in the real game or in M's dream
"""


def _take_option(args: list[str], name: str) -> tuple[str | None, list[str]]:
    """Remove ``--name VALUE`` or ``--name=VALUE`` from ``args``; return (value, remaining args)."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1], args[:i] + args[i + 2 :]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1], args[:i] + args[i + 1 :]
    return None, args


@dataclasses.dataclass(frozen=True)
class TrainPGArgs:
    """Arguments of ``gamerl train pg``: a policy-gradient config and an optional run to resume."""

    config: Annotated[PGConfig, tyro.conf.arg(name="")]
    resume: Annotated[
        Path | None,
        tyro.conf.arg(
            help=resume_help("continue the run in this directory from its last checkpoint and settings", PGConfig)
        ),
    ] = None


def parse_resumable(
    args: list[str], args_cls: type[A], default: A | None, prog: str, description: str, stored: Callable[[A], Any]
) -> A:
    """Parse ``args`` into ``args_cls`` (with a ``config`` field) from ``default`` (None: the class's defaults).

    When ``stored(parsed)`` finds the config of a run being resumed, parse again from it (but for how this
    sitting runs: ``sitting_options`` but ``KEPT_SITTING_OPTIONS`` keep the command line's values, defaults
    included), so the budget and every setting not given keep the run's values; a given option the resume
    would not use is refused in one line.
    """
    parsed = tyro.cli(args_cls, args=args, default=default, prog=prog, description=description)
    config = stored(parsed)
    if config is None:
        return parsed
    per_sitting = [n for n in config.sitting_options if n not in KEPT_SITTING_OPTIONS]  # type: ignore[attr-defined]
    sitting = {n: getattr(parsed.config, n) for n in per_sitting}
    again = dataclasses.replace(parsed, config=dataclasses.replace(config, **sitting))  # type: ignore[type-var]
    parsed = tyro.cli(args_cls, args=args, default=again, prog=prog, description=description)
    refuse_changes_on_resume(parsed.config, config)  # type: ignore[attr-defined]
    return parsed


def parse_with_preset(
    args: list[str],
    args_cls: type[A],
    presets: dict[str, tuple[str, Any]],
    default: str,
    prog: str,
    what: str,
    system: str,
) -> A:
    """Parse ``args`` into ``args_cls`` whose ``config`` defaults come from ``--preset NAME`` (or ``default``);
    with ``--resume RUN_DIR``, from that ``system`` run's config.json instead."""
    preset, args = _take_option(args, "--preset")
    if preset is not None and preset not in presets:
        raise GamerlError(f"unknown preset '{preset}': choose one of {', '.join(presets)}")
    name = preset or default
    config = presets[name][1]

    def stored(parsed: Any) -> Any:
        if parsed.resume is None:
            return None
        if preset is not None:
            raise GamerlError("--preset and --resume together: a resumed run keeps its own settings; drop --preset")
        return load_run_config(parsed.resume, type(config), system)

    presets_help = "; ".join(f"{k}: {desc}" for k, (desc, _) in presets.items())
    description = f"{what} --preset NAME picks the defaults ({presets_help}). Preset: {name}."
    return parse_resumable(args, args_cls, args_cls(config=config), prog, description, stored)  # type: ignore[call-arg]


def _train_pg(args: list[str]) -> None:
    from gamerl.algorithms.pg.session import SYSTEM

    what = "Train on Pong from pixels."
    parsed = parse_with_preset(args, TrainPGArgs, PRESETS, "post", "gamerl train pg", what, SYSTEM)
    from gamerl.algorithms.pg.cem import train_cem
    from gamerl.algorithms.pg.reinforce import train_reinforce

    trainer = train_cem if parsed.config.method == "cem" else train_reinforce
    run_dir = trainer(parsed.config, resume=parsed.resume)
    print(f"run directory: {run_dir}")


@dataclasses.dataclass(frozen=True)
class EvaluateArgs:
    """Play N games with a trained agent and report mean ± std; scores go to RUN_DIR/eval/.

    PPO and World Models runs take more options: 'gamerl evaluate RUN_DIR --help' lists a run's own.
    """

    run_dir: tyro.conf.Positional[Path]
    """run directory made by 'gamerl train'"""
    episodes: int = 10
    """number of full games"""
    seed: int = 12345
    """seed of the evaluation games (different from training by default)"""
    greedy: bool = False
    """take the most likely action instead of sampling"""
    repeat_action_probability: float | None = None
    """sticky actions during evaluation, e.g. 0.25 to test robustness (default: the run's own setting)"""
    progress: bool = True
    """show a progress bar on the terminal"""


def _evaluate(args: list[str]) -> None:
    from gamerl.algorithms.ppo.cli import evaluate_command, is_ppo_run
    from gamerl.algorithms.worldmodels import cli as wm_cli

    if is_ppo_run(args):
        return evaluate_command(args)
    if wm_cli.is_worldmodels_run(args):
        return wm_cli.evaluate_command(args)
    parsed = tyro.cli(EvaluateArgs, args=args, prog="gamerl evaluate")
    from gamerl.evaluation.evaluate import evaluate_run

    result = evaluate_run(
        parsed.run_dir,
        parsed.episodes,
        parsed.seed,
        parsed.greedy,
        repeat_action_probability=parsed.repeat_action_probability,
        progress=parsed.progress,
    )
    print(f"{parsed.episodes} episodes: mean reward {result.mean:+.2f} ± {result.std:.2f} (scores in {result.path})")


@dataclasses.dataclass(frozen=True)
class PlayArgs:
    """Record a trained agent playing one game of the real env as a GIF or mp4.

    PPO and World Models runs take more options: 'gamerl play RUN_DIR --help' lists a run's own.
    """

    run_dir: tyro.conf.Positional[Path]
    """run directory made by 'gamerl train'"""
    out: Path | None = None
    """output file, .gif or .mp4 (default RUN_DIR/videos/play.gif)"""
    max_steps: int = 2000
    """stop the recording after this many agent steps"""
    seed: int = 0
    """seed of the game"""
    fps: int = 30
    """frames per second of the video"""
    greedy: bool = False
    """take the most likely action instead of sampling"""


def _play(args: list[str]) -> None:
    from gamerl.algorithms.ppo.cli import is_ppo_run, play_command
    from gamerl.algorithms.worldmodels import cli as wm_cli

    if is_ppo_run(args):
        return play_command(args)
    if wm_cli.is_worldmodels_run(args):
        return wm_cli.play_command(args)
    parsed = tyro.cli(PlayArgs, args=args, prog="gamerl play")
    from gamerl.evaluation.video import record_play

    out = record_play(parsed.run_dir, parsed.out, parsed.max_steps, parsed.seed, parsed.fps, parsed.greedy)
    print(f"video: {out}")


@dataclasses.dataclass(frozen=True)
class PlotArgs:
    """Plot a logged metric of one or more runs against episodes and wall-clock, one line per run."""

    run_dirs: tyro.conf.Positional[tuple[Path, ...]]
    """run directories made by 'gamerl train', or stages of them (RUN/mdn, RUN/controller/NAME)"""
    out: Path = Path("curves.png")
    """output figure: .png, .pdf or .svg"""
    key: str | None = None
    """metric key from metrics.jsonl (default: the runs' main curve: rollout/running_reward for pg,
    rollout/return for ppo, train/fitness_mean for a controller, train/mdn_loss for M, train/vae_loss for V)"""


def _plot(args: list[str]) -> None:
    parsed = tyro.cli(PlotArgs, args=args, prog="gamerl plot")
    from gamerl.atomic import make_writable_folder
    from gamerl.errors import RunDirError
    from gamerl.evaluation.figures import MAIN_CURVES, logged_keys, main_curve, plot_learning_curve, sorted_keys

    if not parsed.run_dirs:
        raise RunDirError("no run to plot: pass one or more run directories made by 'gamerl train'")
    if parsed.out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise GamerlError(f"figure file must end in .png, .pdf or .svg, got '{parsed.out.name}': pass --out curves.png")
    make_writable_folder(parsed.out.parent, "--out")
    for run_dir in parsed.run_dirs:  # a run, or a stage of one (World Models' mdn/, controller/NAME/)
        if not (run_dir / "metrics.jsonl").is_file():
            what = "does not exist" if not run_dir.exists() else "has no metrics.jsonl"
            raise RunDirError(f"{run_dir} {what}: pass a run directory made by 'gamerl train' (or one of its stages)")
    runs = list(parsed.run_dirs)
    by_run = logged_keys(runs)
    keys = sorted_keys(set().union(*by_run.values()))
    key = parsed.key or main_curve(keys)
    if key is None or plot_learning_curve(runs, parsed.out, key) is None:
        if not keys:
            raise GamerlError("the runs have logged nothing yet: train longer")
        shown = ", ".join(keys[:8]) + (f" and {len(keys) - 8} more" if len(keys) > 8 else "")
        what = f"'{key}'" if key else "a main curve (" + ", ".join(MAIN_CURVES) + ")"
        raise GamerlError(f"no run logged {what}: pass --key with one they logged: {shown}")
    print(f"figure: {parsed.out} ({key})")
    left_out = [str(run_dir) for run_dir, logged in by_run.items() if key not in logged]
    if left_out:
        print(f"left out, having logged no {key}: {', '.join(left_out)}")


def _worldmodels(handler: str, args: list[str]) -> None:
    from gamerl.algorithms.worldmodels import cli as wm_cli

    getattr(wm_cli, handler)(args)


def _ppo(handler: str, args: list[str]) -> None:
    from gamerl.algorithms.ppo import cli as ppo_cli

    getattr(ppo_cli, handler)(args)


def _envs(args: list[str]) -> None:
    from gamerl.envs.registry import env_ids, get_spec

    for env_id in env_ids():
        print(f"{env_id:32s} {get_spec(env_id).description}")


COMMANDS: dict[str, Callable[[list[str]], None]] = {
    "train pg": _train_pg,
    "train ppo": lambda a: _ppo("train_command", a),
    "evaluate": _evaluate,
    "play": _play,
    "envs": _envs,
    "plot": _plot,
    "collect": lambda a: _worldmodels("collect_command", a),
    "train vae": lambda a: _worldmodels("train_vae_command", a),
    "encode": lambda a: _worldmodels("encode_command", a),
    "train mdn": lambda a: _worldmodels("train_mdn_command", a),
    "dream": lambda a: _worldmodels("dream_command", a),
    "train controller": lambda a: _worldmodels("train_controller_command", a),
}

AFTER_INTERRUPT = {
    "train pg": "continue with 'gamerl train pg --resume RUN_DIR'",
    "train ppo": "continue with 'gamerl train ppo --resume RUN_DIR'",
    "train vae": "continue with 'gamerl train vae --resume RUN_DIR'",
    "train mdn": "continue with 'gamerl train mdn RUN_DIR --resume'",
    "train controller": "continue with 'gamerl train controller RUN_DIR --resume' (and the stage's --name)",
    "collect": "the store keeps every finished episode: collect again to add more",
}
"""what an interrupted command kept and how to go on (commands not named here keep nothing)"""


def _command(argv: list[str]) -> str | None:
    """The command words ``argv`` starts with (the longest match in :data:`COMMANDS`), or None."""
    return next((w for w in sorted(COMMANDS, key=len, reverse=True) if argv[: len(w.split())] == w.split()), None)


def _dispatch(argv: list[str]) -> None:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return
    words = _command(argv)
    if words is not None:
        COMMANDS[words](argv[len(words.split()) :])
        return
    if argv[0] == "train":
        systems = ", ".join(w.split()[1] for w in COMMANDS if w.startswith("train "))
        raise GamerlError(f"'gamerl train' needs a system: one of {systems} (e.g. 'gamerl train pg')")
    raise GamerlError(f"unknown command '{argv[0]}': run 'gamerl --help' for the list")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gamerl`` command; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        _dispatch(args)
    except GamerlError as err:
        print(f"gamerl: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = AFTER_INTERRUPT.get(_command(args) or "")
        print("gamerl: interrupted" + (f"; {kept}" if kept else ""), file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away ('gamerl --help | head'): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0


if __name__ == "__main__":
    sys.exit(main())
