import numpy as np
import pytest

from gamerl.data.returns import discounted_returns, standardize


def test_returns_reset_at_each_point():
    rewards = np.array([0, 0, 1, 0, -1], dtype=np.float32)
    got = discounted_returns(rewards, gamma=0.5, reset_on_reward=True)
    # the -1 point does not leak into the steps of the first point
    np.testing.assert_allclose(got, [0.25, 0.5, 1.0, -0.5, -1.0])


def test_returns_without_reset_sum_over_the_whole_episode():
    rewards = np.array([0, 0, 1, 0, -1], dtype=np.float32)
    got = discounted_returns(rewards, gamma=0.5, reset_on_reward=False)
    np.testing.assert_allclose(got, [0.25 - 1 / 16, 0.5 - 1 / 8, 1.0 - 0.25, -0.5, -1.0])


def test_returns_of_empty_episode():
    assert discounted_returns(np.zeros(0), 0.99).shape == (0,)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_standardize_gives_zero_mean_unit_std(seed):
    values = np.random.default_rng(seed).normal(3.0, 5.0, size=1000)
    out = standardize(values)
    assert abs(out.mean()) < 1e-9
    assert abs(out.std() - 1.0) < 1e-9


def test_standardize_constant_input_is_zeros_not_nan():
    out = standardize(np.full(7, 2.5))
    np.testing.assert_array_equal(out, np.zeros(7))
