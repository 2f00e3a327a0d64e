"""Run directories: a fresh one that nothing was written to can be taken back, never one holding data."""

from pathlib import Path

from gamerl.config.ppo import PPOConfig
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
