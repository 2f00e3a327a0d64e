"""Run directories: one folder inside --runs-dir, made or refused with one line; a fresh one that nothing was
written to can be taken back, never one holding data."""

from pathlib import Path

import pytest

from gamerl.cli import main
from gamerl.config.ppo import PPOConfig
from gamerl.errors import RunDirError
from gamerl.training.run import discard_unstarted_run, new_run_dir


def test_only_an_untouched_run_directory_is_discarded(tmp_path: Path) -> None:
    run_dir = new_run_dir(PPOConfig(runs_dir=tmp_path, run_name="r"), "CartPole-v1", "ppo")
    kept = run_dir / "checkpoints" / "last.pt"
    kept.write_bytes(b"training data")
    assert not discard_unstarted_run(run_dir)
    assert kept.read_bytes() == b"training data"
    kept.unlink()
    (run_dir / "tb" / "events").mkdir()  # a folder a logger made also keeps the run
    assert not discard_unstarted_run(run_dir)
    (run_dir / "tb" / "events").rmdir()
    assert discard_unstarted_run(run_dir)
    assert not run_dir.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["..", ".", "a/b", "/tmp/elsewhere"])
def test_a_run_name_must_be_one_folder_inside_runs_dir(tmp_path: Path, name: str) -> None:
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    with pytest.raises(RunDirError, match="is not one folder name"):
        new_run_dir(PPOConfig(runs_dir=runs_dir, run_name=name), "CartPole-v1", "ppo")
    assert list(tmp_path.rglob("*")) == [runs_dir]  # '..' would have made tmp_path itself the run


def test_a_runs_dir_that_cannot_be_made_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("data")
    argv = ["train", "ppo", "--preset", "cartpole", "--updates", "1", "--no-progress", "--runs-dir", str(not_a_folder)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "(a file is in the way): pass --runs-dir another path" in err
    assert len(err.splitlines()) == 1 and not_a_folder.read_text() == "data"
