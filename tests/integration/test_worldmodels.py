"""collect → train vae → encode → train mdn → dream, through the CLI, on Airstriker and take_cover."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gamerl.cli import main
from gamerl.data.datasets import Latents
from gamerl.training.logger import read_metrics


@pytest.mark.parametrize(
    ("env_id", "package", "actions"),
    [("Airstriker-Genesis-v0", "stable_retro", 4), ("VizdoomTakeCover-v1", "vizdoom", 3)],
)
def test_tiny_pipeline(env_id: str, package: str, actions: int, tmp_path: Path, monkeypatch, capsys) -> None:
    pytest.importorskip(package)
    monkeypatch.chdir(tmp_path)
    store, runs = tmp_path / "store", tmp_path / "runs"
    assert (
        main(
            [
                "collect",
                "--store",
                str(store),
                "--env-id",
                env_id,
                "--policy",
                "sticky",
                "--steps",
                "150",
                "--chunk-steps",
                "50",
                "--max-episode-steps",
                "60",
                "--no-progress",
            ]
        )
        == 0
    )
    vae_args = [
        "train",
        "vae",
        "--store",
        str(store),
        "--runs-dir",
        str(runs),
        "--batch-size",
        "16",
        "--validation-fraction",
        "0.3",
        "--no-progress",
    ]
    missing = f"cuda:{torch.cuda.device_count()}"  # one past the last GPU: refused before any run directory
    assert main([*vae_args, "--epochs", "1", "--device", missing]) == 2
    assert capsys.readouterr().err.strip().endswith("pass --device cpu (or auto)")
    assert main([*vae_args, "--epochs", "1"]) == 0
    (run,) = runs.iterdir()
    assert json.loads((run / "worldmodels.json").read_text())["frame_skip"] == 4
    assert (run / "figures" / "vae_recon_epoch001.png").is_file()
    assert (run / "figures" / "vae_interpolation.png").is_file()
    steps_after_one = read_metrics(run)[-1]["step"]
    # resume: the stored config is used, but for the budget given now; a setting that would go unused is refused
    assert main(["train", "vae", "--resume", str(run), "--epochs", "2", "--batch-size", "8"]) == 2
    assert main(["train", "vae", "--resume", str(run), "--epochs", "2", "--device", "cpu", "--no-progress"]) == 0
    assert main(["train", "vae", "--resume", str(run)]) == 0  # its 2 epochs are done: nothing to train
    records = read_metrics(run)
    assert [r["charts/epoch"] for r in records] == [1, 2]
    assert records[-1]["step"] == 2 * steps_after_one
    assert "eval/vae_loss" in records[-1] and np.isfinite(records[-1]["eval/vae_loss"])

    assert main(["encode", str(run), "--device", missing]) == 2
    assert capsys.readouterr().err.strip().endswith("pass --device cpu (or auto)")
    assert main(["encode", str(run)]) == 0
    latents = Latents.load(run / "latents.npz")
    assert latents.mu.shape == (150, 32) and latents.actions.shape == (150, actions)
    assert latents.lengths.sum() == 150 and latents.frame_skip == 4

    mdn_args = [
        "train",
        "mdn",
        str(run),
        "--updates",
        "6",
        "--sequence-length",
        "10",
        "--hidden",
        "16",
        "--embed",
        "16",
        "--eval-every",
        "3",
        "--batch-size",
        "4",
        "--no-progress",
    ]
    assert main([*mdn_args, "--device", missing]) == 2  # and leaves no M stage behind
    assert capsys.readouterr().err.strip().endswith("pass --device cpu (or auto)")
    assert main(mdn_args) == 0
    mdn_records = read_metrics(run / "mdn")
    assert [r["step"] for r in mdn_records] == [3, 6]
    assert main(["train", "mdn", str(run), "--resume", "--updates", "9", "--hidden", "8"]) == 2
    assert main(["train", "mdn", str(run), "--resume", "--updates", "9", "--device", "cpu", "--no-progress"]) == 0
    assert [r["step"] for r in read_metrics(run / "mdn")] == [3, 6, 9]
    assert main(mdn_args) == 2  # a second M stage in the same run is refused
    assert all(np.isfinite(r["eval/latent_nll"]) and "eval/copy_last_mse" in r for r in mdn_records)
    assert main(["dream", str(run), "--steps", "4", "--gif-steps", "5"]) == 0
    assert (run / "figures" / "mdn_prediction.png").is_file() and (run / "videos" / "dream.gif").is_file()
    capsys.readouterr()

    # a store of another resolution is refused by the run's later stages
    other = tmp_path / "other"
    assert (
        main(
            [
                "collect",
                "--store",
                str(other),
                "--env-id",
                env_id,
                "--steps",
                "10",
                "--resolution",
                "128",
                "--no-progress",
            ]
        )
        == 0
    )
    assert main(["encode", str(run), "--store", str(other)]) == 2
    assert "holds 128 px frames at frame skip 4, not 64 px" in capsys.readouterr().err


def test_a_batch_larger_than_the_training_frames_is_refused_before_the_run_directory(
    wm_run: Path, tmp_path: Path, capsys
) -> None:
    store = wm_run.parent.parent / "store"
    argv = ["train", "vae", "--store", str(store), "--runs-dir", str(tmp_path), "--run-name", "v"]
    for _ in range(2):  # the same command again: not 'already holds a run'
        assert main([*argv, "--batch-size", "100000", "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "training frames, fewer than one batch of 100000: collect more data or pass a smaller" in err
    assert list(tmp_path.iterdir()) == []
