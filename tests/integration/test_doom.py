"""The Doom take_cover adapter."""

from pathlib import Path

import pytest

from gamerl.envs.doom import make_take_cover
from gamerl.errors import ConfigError


def test_the_engine_folder_exists_before_any_engine_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Engines that start at once in a new folder must not race to make it: a collector died of
    "Failed to create ./_vizdoom/ directory: File exists" in the README demo's fresh clone."""
    pytest.importorskip("vizdoom")
    monkeypatch.chdir(tmp_path)
    env = make_take_cover()
    try:
        assert (tmp_path / "_vizdoom").is_dir()  # before the first episode, where the engine would make it
        obs, _ = env.reset(seed=0)
        assert obs.shape == (240, 320, 3)
    finally:
        env.close()


def test_an_engine_folder_that_cannot_be_made_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("vizdoom")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "_vizdoom").write_text("a file where the engine's folder goes")
    with pytest.raises(
        ConfigError, match=r"keeps its files in ./_vizdoom/, which cannot be made in .* \(File exists\)"
    ):
        make_take_cover()
