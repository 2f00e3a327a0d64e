import pytest
import torch

from gamerl.errors import CheckpointError
from gamerl.training.checkpoints import load_checkpoint, save_checkpoint


def test_round_trip_and_no_temp_files_left(tmp_path):
    path = tmp_path / "ckpt" / "last.pt"
    save_checkpoint(path, "pg", {"model": {"w": torch.arange(3)}, "step": 7})
    data = load_checkpoint(path, "pg")
    assert data["step"] == 7 and torch.equal(data["model"]["w"], torch.arange(3))
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]


def test_overwrite_is_atomic_replacement(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, "pg", {"step": 1})
    save_checkpoint(path, "pg", {"step": 2})
    assert load_checkpoint(path, "pg")["step"] == 2


def test_corrupt_checkpoint_gives_one_line_error_and_keeps_the_file(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, "pg", {"step": 1})
    blob = path.read_bytes()[:100]
    path.write_bytes(blob)
    with pytest.raises(CheckpointError, match="corrupt .*: restore it from a backup") as info:
        load_checkpoint(path, "pg")
    assert "\n" not in str(info.value)
    assert path.read_bytes() == blob


def test_foreign_and_missing_checkpoints(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, "ppo", {"step": 1})
    with pytest.raises(CheckpointError, match="'ppo'"):
        load_checkpoint(path, "pg")
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a gamerl checkpoint"):
        load_checkpoint(tmp_path / "other.pt", "pg")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt", "pg")
