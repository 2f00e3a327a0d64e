"""The Pong pixel-difference env on real ALE frames."""

import gymnasium as gym
import numpy as np
import pytest

from gamerl.envs.atari import AtariSettings, PongDiffVectorEnv, preprocess_gray, preprocess_rgb


def test_grayscale_preprocessing_equals_the_posts_rgb_prepro_on_real_frames():
    import ale_py

    gym.register_envs(ale_py)
    env = gym.make("ALE/Pong-v5", frameskip=4, repeat_action_probability=0.0)
    frame, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(400):
        gray = env.unwrapped.ale.getScreenGrayscale()
        expected = preprocess_rgb(frame)
        assert expected.shape == (6400,) and set(np.unique(expected)) <= {0, 1}
        np.testing.assert_array_equal(preprocess_gray(gray), expected)
        frame, _, terminated, truncated, _ = env.step(int(rng.integers(6)))
        if terminated or truncated:
            frame, _ = env.reset()
    env.close()
    # paddles and ball: a real frame has some foreground, not all
    assert 0 < preprocess_rgb(frame).sum() < 6400


def test_difference_frames_and_episode_end():
    with PongDiffVectorEnv(2, seed=0, num_workers=0) as env:
        obs = env.reset()
        assert obs.shape == (2, 6400) and obs.dtype == np.int8
        total, done_seen = np.zeros(2), False
        for _ in range(3000):
            obs, rewards, dones = env.step(np.zeros(2, dtype=np.uint8))
            assert set(np.unique(obs)) <= {-1, 0, 1}
            total += rewards
            if dones.any():
                done_seen = True
                break
        # a game ends when a side reaches 21 points; an always-DOWN player loses it
        assert done_seen and -21 <= total[dones].min() <= -1


@pytest.mark.parametrize("num_workers", [0, 1, 2])
def test_same_seed_same_games_whatever_the_worker_layout(num_workers):
    actions = np.random.default_rng(0).integers(0, 2, size=(200, 4))
    with (
        PongDiffVectorEnv(4, seed=7, num_workers=0) as reference,
        PongDiffVectorEnv(4, seed=7, num_workers=num_workers) as env,
    ):
        np.testing.assert_array_equal(reference.reset(), env.reset())
        for a in actions:
            ref = reference.step(a)
            got = env.step(a)
            for x, y in zip(ref, got, strict=False):
                np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("num_workers", [0, 1])
def test_state_round_trip_continues_exactly(num_workers):
    settings = AtariSettings(repeat_action_probability=0.25)  # the sticky-action RNG must be restored too
    actions = np.random.default_rng(1).integers(0, 2, size=(300, 3))
    with PongDiffVectorEnv(3, seed=1, num_workers=num_workers, settings=settings) as env:
        env.reset()
        for a in actions[:100]:
            env.step(a)
        state = env.get_state()
        expected = [tuple(np.copy(x) for x in env.step(a)) for a in actions[100:]]
    with PongDiffVectorEnv(3, seed=99, num_workers=num_workers, settings=settings) as env:
        env.reset()
        env.set_state(state)
        for a, exp in zip(actions[100:], expected, strict=False):
            for x, y in zip(env.step(a), exp, strict=False):
                np.testing.assert_array_equal(x, y)


def test_state_for_other_settings_is_refused():
    from gamerl.errors import ConfigError

    with PongDiffVectorEnv(1, seed=0, num_workers=0) as env:
        env.reset()
        state = env.get_state()
    with PongDiffVectorEnv(1, seed=0, num_workers=0, settings=AtariSettings(frame_skip=2)) as env:
        with pytest.raises(ConfigError, match="resume with the run's own config"):
            env.set_state(state)


def test_render_rgb_from_worker_and_local_shards():
    with PongDiffVectorEnv(2, seed=0, num_workers=1, local_games=1) as env:
        env.reset()
        assert env.render_rgb(0).shape == (210, 160, 3)
        assert env.render_rgb(1).shape == (210, 160, 3)
