"""Rollout store: concurrent writers, a SIGKILLed writer, reopen-and-append, refused mismatches."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from gamerl.data.datasets import split_episodes
from gamerl.data.store import RolloutStore, StoreMeta
from gamerl.errors import ConfigError, RunDirError

META = StoreMeta(resolution=8, frame_skip=4, action_dim=2, chunk_steps=10)


def step_data(tag: int, t: int) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """A frame/action/reward that encode who wrote them and when, so reads can be checked exactly."""
    frame = np.full((8, 8, 3), (tag * 50 + t) % 256, np.uint8)
    frame[0, 0] = [tag, t % 256, t // 256]
    return frame, np.array([tag, t], np.float32), float(t), False


def write_episodes(path: Path, tag: int, lengths: list[int], pause: float = 0.0) -> None:
    store = RolloutStore.create_or_open(path, META)
    with store.writer(f"writer{tag}") as writer:
        t = 0
        for length in lengths:
            for _ in range(length):
                writer.add(*step_data(tag, t))
                t += 1
                time.sleep(pause)
            writer.end_episode({"policy": "test", "tag": tag})


def check_episode(store: RolloutStore, episode, tag: int, first_t: int) -> None:
    data = store.read_episode(episode)
    for i in range(episode.length):
        frame, action, reward, _ = step_data(tag, first_t + i)
        np.testing.assert_array_equal(data["frames"][i], frame)
        np.testing.assert_array_equal(data["actions"][i], action)
        assert data["rewards"][i] == reward


def test_two_concurrent_writers_both_land_intact(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=write_episodes, args=(tmp_path, tag, [13, 9, 25], 0.001)) for tag in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = RolloutStore.open(tmp_path)
    assert store.shard_names() == ["writer1", "writer2"]
    episodes = store.episodes()
    assert [e.length for e in episodes] == [13, 9, 25, 13, 9, 25]
    for e in episodes:
        tag = e.meta["tag"]
        check_episode(store, e, tag, e.start)
        assert e.meta["frame_skip"] == 4 and e.meta["resolution"] == 8


def test_sigkilled_writer_loses_only_its_unfinished_chunk(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=write_episodes, args=(tmp_path, 7, [6, 8, 1000], 0.002))
    proc.start()
    commit = tmp_path / "shards" / "writer7" / "commit.json"
    deadline = time.time() + 60
    while time.time() < deadline:
        if commit.exists() and RolloutStore.open(tmp_path).read_commit("writer7")["steps"] >= 30:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    store = RolloutStore.open(tmp_path)
    steps = store.read_commit("writer7")["steps"]
    assert steps >= 30 and steps % META.chunk_steps == 0  # only whole chunks were ever committed
    episodes = store.episodes()
    assert [e.length for e in episodes] == [6, 8]  # the unfinished episode is not listed
    for e in episodes:
        check_episode(store, e, 7, e.start)
    # reopen and append: a new writer session adds a shard; old data stays readable
    write_episodes(tmp_path, 8, [12])
    store = RolloutStore.open(tmp_path)
    assert [e.length for e in store.episodes()] == [6, 8, 12]
    for e in store.episodes():
        check_episode(store, e, e.meta["tag"], e.start)


def test_close_commits_a_partial_chunk_and_reopen_appends(tmp_path: Path) -> None:
    write_episodes(tmp_path, 1, [3, 4])
    assert RolloutStore.open(tmp_path).total_steps() == 7
    write_episodes(tmp_path, 2, [5])
    store = RolloutStore.open(tmp_path)
    assert store.total_steps() == 12
    assert [(e.shard, e.start) for e in store.episodes()] == [("writer1", 0), ("writer1", 3), ("writer2", 0)]
    with pytest.raises(Exception, match="already exists"):
        store.writer("writer1")


def test_an_episode_ending_on_a_chunk_boundary_is_committed(tmp_path: Path) -> None:
    write_episodes(tmp_path, 1, [4, 16])  # 20 steps = exactly two chunks of 10
    store = RolloutStore.open(tmp_path)
    assert [e.length for e in store.episodes()] == [4, 16]
    check_episode(store, store.episodes()[1], 1, 4)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"resolution": 16}, "8 px frames at frame skip 4, not 16 px"),
        ({"frame_skip": 1}, "pass --resolution 8 --frame-skip 4"),
        ({"action_dim": 3}, "2-dim actions"),
    ],
)
def test_store_refuses_other_resolution_frame_skip_or_actions(tmp_path: Path, change: dict, message: str) -> None:
    write_episodes(tmp_path, 1, [3])
    other = StoreMeta(**{**META.__dict__, **change})
    with pytest.raises(ConfigError, match=message):
        RolloutStore.create_or_open(tmp_path, other)


@pytest.mark.parametrize(("content", "what"), [(b"{torn", "is not valid JSON"), (b"\xff\xfe", "is not a text file")])
def test_a_damaged_store_json_is_one_line(tmp_path: Path, content: bytes, what: str) -> None:
    write_episodes(tmp_path, 1, [3])
    (tmp_path / "store.json").write_bytes(content)
    with pytest.raises(RunDirError, match=f"store.json {what}.*: restore it from a backup, or collect into a new"):
        RolloutStore.open(tmp_path)


def test_a_store_under_a_file_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("data")
    with pytest.raises(RunDirError, match=r"cannot write in .*file/shards \(a file is in the way\): pass --store"):
        RolloutStore.create_or_open(blocker, META)
    assert blocker.read_text() == "data"


def test_split_is_deterministic_and_keeps_a_validation_episode(tmp_path: Path) -> None:
    write_episodes(tmp_path, 1, [3, 4, 5, 6])
    episodes = RolloutStore.open(tmp_path).episodes()
    train, val = split_episodes(episodes, 0.1)
    assert len(val) == 1 and len(train) == 3
    assert split_episodes(episodes, 0.1) == (train, val)


def test_readers_see_committed_episodes_while_the_writer_is_still_open(tmp_path: Path) -> None:
    store = RolloutStore.create_or_open(tmp_path, META)
    with store.writer("live") as writer:
        for t in range(12):
            writer.add(*step_data(3, t))
        writer.end_episode({"tag": 3})
        assert RolloutStore.open(tmp_path).episodes() == []  # step 12 is still buffered
        for t in range(12, 20):
            writer.add(*step_data(3, t))  # fills the second chunk: steps 0-19 are committed
        (episode,) = RolloutStore.open(tmp_path).episodes()
        assert episode.length == 12
        check_episode(RolloutStore.open(tmp_path), episode, 3, 0)
