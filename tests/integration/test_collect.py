"""``gamerl collect`` on real games: random, sticky and JERK policies, parallel workers, seeding."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gamerl.algorithms.worldmodels.collect import collect
from gamerl.cli import main
from gamerl.config.worldmodels import CollectConfig
from gamerl.data.store import RolloutStore
from gamerl.errors import ConfigError, TrainingError


def test_jerk_on_airstriker_two_workers(tmp_path: Path) -> None:
    pytest.importorskip("stable_retro")
    config = CollectConfig(
        store=tmp_path / "s",
        policy="jerk",
        steps=240,
        workers=2,
        chunk_steps=50,
        max_episode_steps=100,
        levels=("Level1",),
        progress=False,
    )
    result = collect(config)
    assert result.steps == 240
    store = RolloutStore.open(tmp_path / "s")
    assert len(store.shard_names()) == 2
    episode = store.episodes()[0]
    data = store.read_episode(episode)
    assert data["frames"].shape == (100, 64, 64, 3)
    right, left = data["actions"][:, 1], data["actions"][:, 0]
    assert right.sum() == 100 and left.sum() == 0  # JERK's first run goes right
    assert 0 < data["actions"][:, 3].sum() < 100  # and jumps (B) now and then
    assert episode.meta == {
        "resolution": 64,
        "frame_skip": 4,
        "game": "Airstriker-Genesis-v0",
        "level": "Level1",
        "policy": "jerk",
        "seed": 1,
        "return": episode.meta["return"],
        "terminated": False,
    }


def test_sticky_collect_on_take_cover_is_seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("vizdoom")
    monkeypatch.chdir(tmp_path)  # vizdoom writes _vizdoom.ini into the working directory
    frames = []
    for name in ("a", "b"):
        config = CollectConfig(
            store=tmp_path / name,
            env_id="VizdoomTakeCover-v1",
            policy="sticky",
            steps=60,
            chunk_steps=25,
            progress=False,
            seed=3,
        )
        collect(config)
        store = RolloutStore.open(tmp_path / name)
        data = [store.read_episode(e) for e in store.episodes()]
        frames.append(np.concatenate([d["frames"] for d in data]))
        actions = np.concatenate([d["actions"] for d in data])
        assert actions.shape == (60, 3) and (actions.sum(1) == 1).all()  # one-hot Discrete(3)
        assert (actions[1:] == actions[:-1]).all(1).mean() > 0.7  # sticky: mostly the same action as before
    np.testing.assert_array_equal(frames[0], frames[1])


def test_collect_cli_refuses_a_store_of_another_resolution(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("stable_retro")
    assert main(["collect", "--store", str(tmp_path / "s"), "--steps", "20", "--no-progress"]) == 0
    assert main(["collect", "--store", str(tmp_path / "s"), "--steps", "20", "--resolution", "128"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gamerl: error: store") and "pass --resolution 64 --frame-skip 4" in err


def test_levels_are_checked_before_any_process_starts(tmp_path: Path) -> None:
    pytest.importorskip("stable_retro")
    with pytest.raises(ConfigError, match="has no level 'Level9'"):
        collect(CollectConfig(store=tmp_path / "s", levels=("Level9",), progress=False))
    with pytest.raises(ConfigError, match="--levels applies to Genesis games"):
        collect(CollectConfig(store=tmp_path / "s", env_id="VizdoomTakeCover-v1", levels=("x",), progress=False))
    assert not (tmp_path / "s").exists()


def test_random_collect_on_car_racing_stores_continuous_actions(tmp_path: Path) -> None:
    pytest.importorskip("Box2D")
    config = CollectConfig(store=tmp_path / "s", env_id="CarRacing-v3", steps=20, frame_skip=2, progress=False)
    assert collect(config).steps == 20
    store = RolloutStore.open(tmp_path / "s")
    (episode,) = store.episodes()
    data = store.read_episode(episode)
    assert data["frames"].shape == (20, 64, 64, 3) and data["actions"].shape == (20, 3)
    assert (data["actions"][:, 0] >= -1).all() and (data["actions"][:, 1:] >= 0).all()
    assert (data["actions"] <= 1).all() and len(np.unique(data["actions"][:, 0])) == 20


def test_jerk_replays_its_best_sequence_on_airstriker(tmp_path: Path) -> None:
    pytest.importorskip("stable_retro")
    config = CollectConfig(
        store=tmp_path / "s", policy="jerk", steps=450, max_episode_steps=150, levels=("Level1",), progress=False
    )
    collect(config)
    store = RolloutStore.open(tmp_path / "s")
    episodes = [store.read_episode(e) for e in store.episodes()]
    explored, replays = [], []
    for data in episodes:
        moving = data["actions"][:, :2].sum(1) == 1  # exploring presses LEFT or RIGHT every step
        (explored if moving.all() else replays).append(data)
    assert explored[0] is episodes[0] and replays  # the first episode explores; a later one replays
    for replay in replays:
        actions = replay["actions"]
        played = int(np.nonzero(actions.any(1))[0].max()) + 1  # the sequence, then no-ops to the end
        assert not actions[played:].any()
        source = [e for e in explored if np.array_equal(e["actions"][:played], actions[:played])]
        assert source, "a replay must repeat an explored episode's actions"
        running = np.cumsum(source[0]["rewards"])
        assert played == int(np.argmax(running)) + 1  # cut where that episode's running return peaked
        assert running.max() > 0  # Airstriker pays for the first kill within 150 steps
        assert replay["rewards"].sum() == running.max()  # the emulator is deterministic: same return again


def test_a_killed_collector_is_named_and_the_others_stop(tmp_path: Path) -> None:
    """A worker the OS kills (say, for memory) is reported at once with its signal, and the other workers
    are stopped, not left to play their whole share first; what they finished stays in the store."""
    pytest.importorskip("stable_retro")
    config = CollectConfig(store=tmp_path / "s", steps=20_000, workers=2, chunk_steps=50, progress=False)

    def kill_one_worker() -> None:
        while len(mp.active_children()) < 2:
            time.sleep(0.05)
        time.sleep(2.0)  # both workers are playing by now
        os.kill(mp.active_children()[0].pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    with pytest.raises(TrainingError, match=r"collector process \d was killed by SIGKILL before it finished"):
        collect(config)
    killer.join()
    assert not mp.active_children()  # the surviving worker was stopped
    assert RolloutStore.open(tmp_path / "s").total_steps() < config.steps
