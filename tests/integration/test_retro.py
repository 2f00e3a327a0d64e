"""Genesis games through stable-retro: Sonic buttons, frame skip, contest levels, missing ROM, .bk2 import."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("stable_retro")

from gamerl.algorithms.worldmodels.bk2 import import_movie  # noqa: E402
from gamerl.cli import main  # noqa: E402
from gamerl.data.store import RolloutStore, StoreMeta  # noqa: E402
from gamerl.envs.retro import SONIC_BUTTONS, check_rom, contest_levels, make_retro  # noqa: E402
from gamerl.envs.wrappers import resize_nearest  # noqa: E402
from gamerl.errors import DependencyError  # noqa: E402


def test_contest_level_lists_match_the_retro_contest() -> None:
    train, validation = contest_levels("train"), contest_levels("validation")
    assert len(train) == 47 and len(validation) == 11
    assert not set(train) & set(validation)
    assert ("SonicTheHedgehog-Genesis-v0", "GreenHillZone.Act2") in validation
    assert ("SonicTheHedgehog-Genesis-v0", "GreenHillZone.Act1") in train


def test_missing_sonic_rom_says_how_to_import_it(no_sonic_rom: None) -> None:
    with pytest.raises(DependencyError, match=r"python -m stable_retro.import DIR") as err:
        check_rom("SonicTheHedgehog-Genesis-v0")
    assert "\n" not in str(err.value)


def test_airstriker_has_the_sonic_buttons_and_skips_four_frames() -> None:
    import stable_retro

    env = make_retro("Airstriker-Genesis-v0", frame_skip=4)
    assert env.action_space.n == len(SONIC_BUTTONS)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (224, 320, 3) and obs.dtype == np.uint8
    actions = [np.array([0, 1, 0, 1]), np.array([1, 0, 0, 0]), np.array([0, 0, 1, 1])] * 5
    wrapped = [env.step(a)[0] for a in actions]
    env.close()
    raw = stable_retro.make("Airstriker-Genesis-v0", render_mode=None)
    raw.reset(seed=0)
    buttons = list(raw.unwrapped.buttons)
    b_sent = 0
    for a, expected in zip(actions, wrapped, strict=True):
        full = np.zeros(len(buttons), np.int8)
        for bit, name in zip(a, SONIC_BUTTONS, strict=True):
            full[buttons.index(name)] = bit
        b_sent = full[buttons.index("B")] = full[buttons.index("B")] & (1 - b_sent)  # B is on turbo
        for _ in range(4):
            frame = raw.step(full)[0]
        np.testing.assert_array_equal(frame, expected)
    raw.close()


def run_holding(env: object, buttons: np.ndarray) -> tuple[int, float]:
    """Steps survived and game score of an Airstriker episode holding ``buttons`` the whole time."""
    env.reset(seed=0)
    score = 0.0
    for step in range(1, 5000):
        _, reward, terminated, truncated, _ = env.step(buttons)
        score += float(reward)
        if terminated or truncated:
            return step, score
    raise AssertionError("the episode did not end")


def test_airstriker_fires_when_b_is_held_thanks_to_turbo() -> None:
    hold_b = np.array([0, 0, 0, 1])
    env = make_retro("Airstriker-Genesis-v0", turbo=False)
    assert run_holding(env, hold_b)[1] == 0.0  # without turbo a held B fires once and never scores
    env.close()
    env = make_retro("Airstriker-Genesis-v0")
    assert run_holding(env, hold_b)[1] > 0.0
    env.close()


def test_training_play_varies_with_the_seed_through_the_sticky_frame_skip() -> None:
    from gamerl.algorithms.worldmodels.collect import make_env

    env = make_env("Airstriker-Genesis-v0", 4)  # what collection and real-game rollouts play
    hold = np.array([0, 1, 0, 1])  # a deterministic policy: RIGHT and fire
    lengths = []
    for seed in (1, 1, 2, 3):
        env.reset(seed=seed)
        lengths.append(next(s for s in range(1, 5000) if any(env.step(hold)[2:4])))
    env.close()
    assert lengths[0] == lengths[1]  # an episode is a function of its seed
    assert len(set(lengths)) > 1  # without the sticky frame skip every episode was the same


def test_bk2_recording_imports_at_the_agent_frame_skip(tmp_path: Path) -> None:
    env = make_retro("Airstriker-Genesis-v0", frame_skip=4)
    env.unwrapped.auto_record(str(tmp_path))
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    seen, rewards = [], []
    for _ in range(30):
        seen.append(resize_nearest(obs, 64))
        obs, reward, *_ = env.step(rng.integers(0, 2, 4))
        rewards.append(reward)
    env.unwrapped.stop_record()
    env.close()
    (movie,) = tmp_path.glob("*.bk2")
    store = RolloutStore.create_or_open(tmp_path / "store", StoreMeta(64, 4, 4, chunk_steps=16))
    with store.writer() as writer:
        steps = import_movie(movie, writer, frame_skip=4, resolution=64)
    assert steps == 30
    (episode,) = store.episodes()
    data = store.read_episode(episode)
    np.testing.assert_array_equal(data["frames"], np.stack(seen))
    np.testing.assert_allclose(data["rewards"], rewards)
    assert episode.meta["policy"] == "bk2" and episode.meta["frame_skip"] == 4


def test_a_damaged_movie_is_named_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    movie = tmp_path / "damaged.bk2"
    movie.write_bytes(b"not a movie")
    argv = ["collect", "--policy", "bk2", "--movies", str(movie), "--store", str(tmp_path / "s"), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{movie} is not a readable .bk2 movie: record it again or leave it out of --movies" in err
    assert len(err.splitlines()) == 1
