"""PPO on CartPole-v1 end to end: it learns, is deterministic, checkpoints, resumes and fine-tunes."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from gamerl.algorithms.ppo import train as train_module
from gamerl.algorithms.ppo.acting import Acting, NumpyActor
from gamerl.algorithms.ppo.evaluate import evaluate_ppo
from gamerl.algorithms.ppo.session import LAST, SYSTEM, load_model, weights_file
from gamerl.algorithms.ppo.train import train_ppo
from gamerl.cli import main
from gamerl.config.ppo import PRESETS, PPOConfig
from gamerl.errors import CheckpointError, EnvNotFoundError
from gamerl.training.checkpoints import load_checkpoint
from gamerl.training.cpu_kernels import fast_cpu_matmul


def _config(tmp_path: Path, **changes: object) -> PPOConfig:
    """The preset without its early stop, so the tests' update counts hold."""
    base = dataclasses.replace(PRESETS["cartpole"][1], runs_dir=tmp_path, progress=False, target_return=None)
    return dataclasses.replace(base, **changes)


def _metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_ppo_learns_cartpole_and_logs_every_metric(tmp_path: Path) -> None:
    run_dir = train_ppo(_config(tmp_path, updates=25, run_name="learn"))
    records = _metrics(run_dir)
    assert len(records) == 25 and records[-1]["step"] == 25 * 32 * 64
    first = next(r["rollout/return"] for r in records if r.get("rollout/return") is not None)
    last = records[-1]["rollout/return"]
    assert first < 40 and last > 150, (first, last)
    for key in (
        "train/policy_loss",
        "train/value_loss",
        "train/approx_kl",
        "train/clip_fraction",
        "train/entropy/a0",
        "rollout/mean_reward",
        "charts/SPS",
    ):
        assert key in records[-1]
    summary, path = evaluate_ppo(run_dir, episodes=4, greedy=True)
    assert summary["mean_return"] > 150 and path == run_dir / "eval" / "results_env_greedy_update25_seed12345.json"
    evaluate_ppo(run_dir, episodes=4, greedy=False)
    saved = {p.name: json.loads(p.read_text())["greedy"] for p in (run_dir / "eval").glob("*.json")}
    assert saved == {
        "results_env_greedy_update25_seed12345.json": True,
        "results_env_sampled_update25_seed12345.json": False,
    }


def test_the_preset_stops_at_its_target_return(tmp_path: Path) -> None:
    preset = PRESETS["cartpole"][1]
    run_dir = train_ppo(dataclasses.replace(preset, runs_dir=tmp_path, progress=False, run_name="target"))
    records = _metrics(run_dir)
    counters = load_checkpoint(run_dir / LAST, SYSTEM)["counters"]
    assert counters["updates"] == len(records) < preset.updates
    assert len(counters["recent_returns"]) == 20 and sum(counters["recent_returns"]) / 20 >= preset.target_return


def test_same_seed_same_run(tmp_path: Path) -> None:
    a = train_ppo(_config(tmp_path, updates=3, run_name="a"))
    b = train_ppo(_config(tmp_path, updates=3, run_name="b"))
    keys = ("train/policy_loss", "train/value_loss", "rollout/mean_reward")
    assert [[r[k] for k in keys] for r in _metrics(a)] == [[r[k] for k in keys] for r in _metrics(b)]


def test_resume_continues_from_the_last_checkpoint(tmp_path: Path) -> None:
    run_dir = train_ppo(_config(tmp_path, updates=2, checkpoint_every=1, run_name="r"))
    before = load_model(run_dir)[0].state_dict()
    evaluate_ppo(run_dir, episodes=2)
    train_ppo(_config(tmp_path, updates=4), resume=run_dir)
    evaluate_ppo(run_dir, episodes=2)  # the last weights again, now those of update 4: the first result stays
    assert sorted(p.name for p in (run_dir / "eval").iterdir()) == [
        f"results_env_sampled_update{i}_seed12345.json" for i in (2, 4)
    ]
    records = _metrics(run_dir)
    assert [r["charts/updates"] for r in records] == [1, 2, 3, 4]
    elapsed = [r["charts/elapsed_s"] for r in records]
    assert elapsed == sorted(set(elapsed))  # the second sitting's clock goes on from the first's
    assert records[-1]["step"] == 4 * 32 * 64
    after = load_model(run_dir)[0].state_dict()
    assert any((before[k] != after[k]).any() for k in before)
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("model_*.pt")) == [
        f"model_00000{i}.pt" for i in range(1, 5)
    ]


def test_evaluate_a_kept_update(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = train_ppo(_config(tmp_path, updates=2, checkpoint_every=1, run_name="kept"))
    second = load_model(run_dir)[0].state_dict()
    first = load_model(weights_file(run_dir, 1))[0].state_dict()
    assert any((first[k] != second[k]).any() for k in first)
    evaluate_ppo(run_dir, episodes=2, update=1)
    assert (run_dir / "eval" / "results_env_sampled_update1_seed12345.json").exists()
    evaluate_ppo(run_dir, episodes=3, update=1)  # other settings, same name: written beside, not over it
    evaluate_ppo(run_dir, episodes=2, update=1)  # the first evaluation again: its own file
    saved = {p.name: json.loads(p.read_text())["episodes"] for p in (run_dir / "eval").iterdir()}
    assert saved == {"results_env_sampled_update1_seed12345.json": 2, "results_env_sampled_update1_seed12345_2.json": 3}
    assert main(["evaluate", str(run_dir), "--episodes", "3", "--update", "1", "--no-progress"]) == 0
    assert f"(in {run_dir / 'eval' / 'results_env_sampled_update1_seed12345_2.json'})" in capsys.readouterr().out
    assert main(["evaluate", str(run_dir), "--episodes", "2", "--update", "9"]) == 2
    err = capsys.readouterr().err
    assert "kept no weights after update 9 (kept: updates 1 to 2, 2 files)" in err and len(err.splitlines()) == 1


def test_fine_tune_starts_from_the_given_weights(tmp_path: Path) -> None:
    source = train_ppo(_config(tmp_path, updates=1, run_name="src"))
    tuned = train_ppo(_config(tmp_path, updates=1, run_name="tuned", init_from=source, policy_lr=1e-12, value_lr=1e-12))
    a, b = load_model(source)[0].state_dict(), load_model(tuned)[0].state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    with pytest.raises(CheckpointError, match="other observations or actions"):
        train_ppo(_config(tmp_path, updates=1, run_name="bad", init_from=source, env_id="Acrobot-v1"))
    wider = _config(tmp_path, updates=1, run_name="wider", init_from=source, policy_hidden=(8,))
    with pytest.raises(CheckpointError, match="has networks of another shape: pass its --policy-hidden 64 64"):
        train_ppo(wider)
    with pytest.raises(CheckpointError, match="does not exist"):
        train_ppo(dataclasses.replace(wider, init_from=tmp_path / "nothing"))
    # a refused start takes its run directory back, so the same command works once the cause is fixed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src", "tuned"]
    train_ppo(dataclasses.replace(wider, policy_hidden=(64, 64)))


def test_cli_train_evaluate_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "train",
                "ppo",
                "--preset",
                "cartpole",
                "--updates",
                "1",
                "--runs-dir",
                str(tmp_path),
                "--run-name",
                "cli",
                "--no-progress",
                "--mlp-precision",
                "bfloat16",
            ]
        )
        == 0
    )
    assert load_model(tmp_path / "cli")[1].mlp_precision == "bfloat16"
    assert main(["evaluate", str(tmp_path / "cli"), "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    assert "sampled play: episodes 2 mean_return" in out and "2/2 games" in out  # the progress bar's last state
    assert main(["evaluate", str(tmp_path / "cli"), "--episodes", "2", "--no-progress"]) == 0
    assert "games" not in capsys.readouterr().out
    assert main(["evaluate", str(tmp_path / "cli"), "--num-envs", "0"]) == 2  # was taken as "the run's"
    assert capsys.readouterr().err.startswith("gamerl: error: num_envs must be >= 1")
    for option, error in (("--fps", "fps must be >= 1"), ("--max-steps", "max_steps must be >= 1")):
        assert main(["play", str(tmp_path / "cli"), option, "0"]) == 2  # was a traceback after a whole game
        assert capsys.readouterr().err.startswith(f"gamerl: error: {error}")
    assert not (tmp_path / "cli" / "videos" / "play.gif").exists()
    for command, option in (("evaluate", "--opponent-items"), ("play", "--update")):  # a PPO run's own options
        with pytest.raises(SystemExit) as info:
            main([command, str(tmp_path / "cli"), "--help"])
        assert info.value.code == 0 and option in capsys.readouterr().out
    # where the learner runs is this sitting's choice: a run may go on on another device
    resume = ["train", "ppo", "--resume", str(tmp_path / "cli"), "--updates", "2", "--device", "cpu", "--no-progress"]
    assert main(resume) == 0
    assert len(_metrics(tmp_path / "cli")) == 2
    assert main(["plot", str(tmp_path / "cli"), "--out", str(tmp_path / "curves.png")]) == 0
    assert "(rollout/return)" in capsys.readouterr().out  # a PPO run's main curve, with no --key
    missing = f"cuda:{torch.cuda.device_count()}"
    assert main(["train", "ppo", "--device", missing, "--runs-dir", str(tmp_path), "--run-name", "gpu"]) == 2
    assert capsys.readouterr().err.strip().endswith("pass --device cpu (or auto)")
    assert not (tmp_path / "gpu").exists()
    assert main(["train", "ppo", "--env-id", "CartPol-v1", "--runs-dir", str(tmp_path), "--no-progress"]) == 2
    assert "unknown env id 'CartPol-v1'" in capsys.readouterr().err
    assert not list(tmp_path.glob("CartPol*"))
    with pytest.raises(EnvNotFoundError):
        train_ppo(_config(tmp_path, env_id="NoSuchEnv-v0"))


def test_the_rollout_acts_with_one_blas_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Idle OpenBLAS threads spin on the cores the env needs (Derk's browser ran at 2/3 speed)."""
    seen: set[int] = set()
    act = NumpyActor.act

    def recording_act(self: NumpyActor, obs: np.ndarray) -> Acting:
        seen.update(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
        return act(self, obs)

    monkeypatch.setattr(NumpyActor, "act", recording_act)
    with threadpool_limits(2, user_api="blas"):
        train_ppo(_config(tmp_path, updates=1))
    assert seen == {1}


def test_wide_networks_update_through_onednn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MKL runs its AVX2 code on AMD CPUs; oneDNN's float32 kernels halve a wide update there."""
    seen: list[str] = []
    update = train_module.update

    def recording_update(*args: object) -> dict[str, float]:
        seen.append(torch.get_float32_matmul_precision())
        return update(*args)

    monkeypatch.setattr(train_module, "update", recording_update)
    before = torch.get_float32_matmul_precision()
    train_ppo(_config(tmp_path, updates=1, policy_hidden=(256, 256), run_name="wide"))
    train_ppo(_config(tmp_path, updates=1, run_name="narrow"))
    with fast_cpu_matmul(torch.device("cpu"), torch.nn.Linear(256, 256)) as fast:  # oneDNN stays float32 here
        pass
    assert seen == ["medium" if fast else before, before]
    assert torch.get_float32_matmul_precision() == before
