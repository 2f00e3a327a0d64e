"""The gamerl command: help everywhere, one-line errors (exit 2), and no lost data."""

import dataclasses
import json
import subprocess
import sys

import pytest

from gamerl.algorithms.pg.reinforce import train_reinforce
from gamerl.cli import main
from gamerl.config.base import resumable
from gamerl.config.pg import PGConfig
from gamerl.config.ppo import PPOConfig
from gamerl.config.worldmodels import ControllerConfig, MDNConfig, VAEConfig
from gamerl.errors import ConfigError
from gamerl.evaluation.evaluate import evaluate_run
from gamerl.training.logger import MetricLogger


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny real run shared by the evaluate/play/error tests of this module."""
    config = PGConfig(
        seed=5,
        runs_dir=tmp_path_factory.mktemp("runs"),
        run_name="cli",
        episodes=2,
        num_envs=2,
        num_workers=0,
        batch_episodes=1,
        frame_skip=12,
        progress=False,
    )
    return train_reinforce(config)


def _one_line_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("gamerl: error: ") and "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("argv", [["--help"], ["train", "pg", "--help"], ["evaluate", "--help"], ["play", "--help"]])
def test_help_everywhere(argv):
    result = subprocess.run([sys.executable, "-m", "gamerl.cli", *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()
    if argv[0] in ("evaluate", "play"):  # PPO and World Models runs have options of their own
        assert f"gamerl {argv[0]} RUN_DIR --help" in " ".join(result.stdout.split())


def test_help_into_a_closed_pipe_stops_quietly():
    """'gamerl evaluate --help | head -1': the reader leaves early, and no traceback follows."""
    child = subprocess.Popen(
        [sys.executable, "-m", "gamerl.cli", "evaluate", "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    child.stdout.close()  # before the child (still importing) writes a line
    err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141 and err == ""


def test_train_help_shows_field_docs_and_presets(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "pg", "--preset", "fast", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert "discount factor" in out and "fast" in out and "0.001" in out


@pytest.mark.parametrize(
    ("command", "config"),
    [
        (["train", "pg"], PGConfig),
        (["train", "ppo"], PPOConfig),
        (["train", "vae"], VAEConfig),
        (["train", "mdn", "RUN"], MDNConfig),
        (["train", "controller", "RUN"], ControllerConfig),
    ],
)
def test_resume_help_lists_exactly_what_a_resume_takes(command, config, capsys):
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    help_text = " ".join(capsys.readouterr().out.replace("│", " ").split())
    listed = help_text.split("it takes ", 1)[1].split(" (default")[0]
    assert listed == ", ".join("--" + name.replace("_", "-") for name in resumable(config))


def test_unknown_env_id_makes_no_run_dir(capsys, tmp_path):
    err = _one_line_error(
        capsys, ["train", "pg", "--env-id", "ALE/Pong-v4", "--runs-dir", str(tmp_path), "--no-progress"]
    )
    assert "ALE/Pong-v5" in err  # did-you-mean
    assert not any(tmp_path.iterdir())


def test_invalid_config_value(capsys, tmp_path):
    err = _one_line_error(capsys, ["train", "pg", "--gamma", "1.5", "--runs-dir", str(tmp_path)])
    assert "gamma" in err


def test_unknown_command_preset_and_system(capsys):
    assert "gamerl --help" in _one_line_error(capsys, ["trian"])
    assert "preset" in _one_line_error(capsys, ["train", "pg", "--preset", "turbo"])
    assert "system" in _one_line_error(capsys, ["train"])


def test_missing_run_dir(capsys, tmp_path):
    for command in ("evaluate", "play"):
        assert "does not exist" in _one_line_error(capsys, [command, str(tmp_path / "nope")])
    assert "does not exist" in _one_line_error(capsys, ["train", "pg", "--resume", str(tmp_path / "nope")])


def test_existing_run_is_never_overwritten(capsys, trained_run):
    before = (trained_run / "config.json").read_bytes(), (trained_run / "metrics.jsonl").read_bytes()
    argv = ["train", "pg", "--runs-dir", str(trained_run.parent), "--run-name", trained_run.name, "--no-progress"]
    assert "--resume" in _one_line_error(capsys, argv)
    assert ((trained_run / "config.json").read_bytes(), (trained_run / "metrics.jsonl").read_bytes()) == before


def test_corrupt_and_foreign_checkpoints_keep_the_files(capsys, trained_run, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(trained_run, broken)
    checkpoint = broken / "checkpoints" / "last.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:2000])
    blob = checkpoint.read_bytes()
    for argv in (["evaluate", str(broken)], ["play", str(broken)], ["train", "pg", "--resume", str(broken)]):
        assert "corrupt" in _one_line_error(capsys, argv)
    assert checkpoint.read_bytes() == blob

    foreign = tmp_path / "foreign"
    shutil.copytree(trained_run, foreign)
    config = json.loads((foreign / "config.json").read_text())
    config["system"] = "ppo"
    (foreign / "config.json").write_text(json.dumps(config))
    err = _one_line_error(capsys, ["evaluate", str(foreign)])
    assert "'ppo'" in err and "'pg'" in err


def test_evaluate_writes_scores(capsys, trained_run):
    assert main(["evaluate", str(trained_run), "--episodes", "3", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "3 episodes" in out and "evaluate" in out and "3/3 episodes" in out  # the progress bar's last state
    scores = json.loads((trained_run / "eval" / "results_seed7.json").read_text())
    assert len(scores["episode_rewards"]) == 3 and all(-21 <= r <= 21 for r in scores["episode_rewards"])
    assert scores["mean"] == pytest.approx(sum(scores["episode_rewards"]) / 3)
    assert f"(scores in {trained_run / 'eval' / 'results_seed7.json'})" in out
    assert main(["evaluate", str(trained_run), "--episodes", "2", "--seed", "7", "--no-progress"]) == 0
    assert f"(scores in {trained_run / 'eval' / 'results_seed7_2.json'})" in capsys.readouterr().out  # beside it


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_play_writes_a_video_of_real_frames(trained_run, tmp_path, suffix):
    import imageio.v3 as iio

    out = tmp_path / f"play{suffix}"
    assert main(["play", str(trained_run), "--out", str(out), "--max-steps", "40"]) == 0
    frames = iio.imread(out, index=None)
    assert frames.shape[0] >= 10 and frames.shape[1:3] == (210, 160)
    assert frames.std() > 0  # not a blank video


def test_bad_video_suffix(capsys, trained_run, tmp_path):
    assert ".gif or .mp4" in _one_line_error(capsys, ["play", str(trained_run), "--out", str(tmp_path / "x.avi")])


def test_resume_extends_a_finished_run(trained_run, tmp_path):
    import shutil

    from gamerl.training.checkpoints import load_checkpoint

    run = tmp_path / "extend"
    shutil.copytree(trained_run, run)
    assert main(["train", "pg", "--resume", str(run), "--episodes", "3", "--no-progress"]) == 0
    assert load_checkpoint(run / "checkpoints" / "last.pt", "pg")["counters"]["episodes"] >= 3
    assert json.loads((run / "config.json").read_text())["config"]["frame_skip"] == 12


def test_evaluate_with_sticky_actions_override(trained_run):
    argv = ["evaluate", str(trained_run), "--episodes", "2", "--seed", "8", "--repeat-action-probability", "0.25"]
    assert main(argv) == 0
    scores = json.loads((trained_run / "eval" / "results_seed8.json").read_text())
    assert scores["repeat_action_probability"] == 0.25 and len(scores["episode_rewards"]) == 2
    stored = json.loads((trained_run / "config.json").read_text())["config"]
    assert stored["repeat_action_probability"] == 0.0  # the run itself is untouched
    with pytest.raises(ConfigError, match="num_envs must be >= 1"):  # was taken as the run's own
        evaluate_run(trained_run, episodes=2, num_envs=0)


def test_envs_lists_pong(capsys):
    assert main(["envs"]) == 0
    assert "ALE/Pong-v5" in capsys.readouterr().out


def test_plot_overlays_runs_and_refuses_non_runs(capsys, trained_run, tmp_path):
    out = tmp_path / "curves.png"
    assert main(["plot", str(trained_run), str(trained_run), "--out", str(out)]) == 0
    assert out.stat().st_size > 1000 and "(rollout/running_reward)" in capsys.readouterr().out
    assert "does not exist" in _one_line_error(capsys, ["plot", str(tmp_path / "nope")])
    assert "pass one or more run directories" in _one_line_error(capsys, ["plot"])
    assert ".png, .pdf or .svg" in _one_line_error(capsys, ["plot", str(trained_run), "--out", str(tmp_path / "c.txt")])
    err = _one_line_error(capsys, ["plot", str(trained_run), "--key", "eval/nothing"])
    assert "no run logged 'eval/nothing'" in err and "rollout/running_reward" in err  # names the keys there are
    assert not (tmp_path / "c.txt").exists()


def test_resume_keeps_the_runs_torch_threads_unless_given(tmp_path):
    """A Derk preset's 2 threads went back to the default 1 on a resume that did not name them again."""
    from gamerl.algorithms.ppo.cli import TrainPPOArgs
    from gamerl.cli import parse_with_preset
    from gamerl.config.ppo import PRESETS

    argv = ["train", "ppo", "--preset", "cartpole", "--updates", "1", "--target-return", "None"]
    assert main([*argv, "--torch-threads", "2", "--runs-dir", str(tmp_path), "--run-name", "r", "--no-progress"]) == 0

    def threads(*given: str) -> int:
        argv = ["--resume", str(tmp_path / "r"), *given]
        return parse_with_preset(argv, TrainPPOArgs, PRESETS, "report", "", "", "ppo").config.torch_threads

    assert threads() == 2 and threads("--torch-threads", "1") == 1


def test_resume_keeps_the_runs_settings_and_refuses_the_ones_it_cannot_change(capsys, trained_run):
    from gamerl.cli import TrainPGArgs, parse_with_preset
    from gamerl.config.pg import PRESETS, PGConfig
    from gamerl.training.run import load_run_config

    stored = load_run_config(trained_run, PGConfig, "pg")
    argv = ["--resume", str(trained_run), "--episodes", "7"]
    parsed = parse_with_preset(argv, TrainPGArgs, PRESETS, "post", "", "", "pg")
    # the run's settings, not the preset's; how this sitting runs (the progress bar) from the command line
    assert not stored.progress and parsed.config == dataclasses.replace(stored, episodes=7, progress=True)
    argv = ["train", "pg", "--resume", str(trained_run), "--num-envs", "8", "--learning-rate", "0.1"]
    assert _one_line_error(capsys, argv).startswith("gamerl: error: --num-envs, --learning-rate cannot change")
    assert "drop --preset" in _one_line_error(capsys, ["train", "pg", "--preset", "fast", "--resume", str(trained_run)])


@pytest.mark.parametrize(("command", "out"), [("play", "play.gif"), ("plot", "curves.png")])
def test_an_output_file_that_cannot_be_written_is_one_line_before_any_work(trained_run, tmp_path, command, out, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("data")
    assert main([command, str(trained_run), "--out", str(blocker / out)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write in {blocker} (a file is in the way): pass --out another path" in err
    assert len(err.splitlines()) == 1 and blocker.read_text() == "data"


def test_a_negative_seed_is_one_line(trained_run, capsys):
    for argv in (["evaluate", str(trained_run), "--seed", "-1"], ["play", str(trained_run), "--seed", "-1"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "seed must be >= 0, got -1" in err and len(err.splitlines()) == 1


def test_plot_names_the_runs_left_out_for_lacking_the_key(trained_run, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    with MetricLogger(other) as logger:
        logger.log(1, {"train/vae_loss": 1.0})
    assert main(["plot", str(trained_run), str(other), "--out", str(tmp_path / "c.png")]) == 0
    out = capsys.readouterr().out
    assert f"left out, having logged no rollout/running_reward: {other}" in out
    assert (tmp_path / "c.png").is_file()
