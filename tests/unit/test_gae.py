"""GAE against values computed by hand."""

import numpy as np
import pytest

from gamerl.data.returns import gae


def test_gae_matches_hand_computed_values_and_stops_at_episode_ends() -> None:
    # gamma 0.9, lambda 0.8; the episode ends with the step at t=1, so t=1 bootstraps nothing
    # t=2: delta = 2 + 0.9 * 2.0 - 1.5 = 2.3                      A = 2.3
    # t=1: delta = 0 - 1.0 = -1.0                                  A = -1.0
    # t=0: delta = 1 + 0.9 * 1.0 - 0.5 = 1.4                       A = 1.4 + 0.72 * -1.0 = 0.68
    rewards = np.array([[1.0], [0.0], [2.0]])
    values = np.array([[0.5], [1.0], [1.5]])
    dones = np.array([[0.0], [1.0], [0.0]])
    adv, ret = gae(rewards, values, dones, np.array([2.0]), gamma=0.9, lam=0.8)
    np.testing.assert_allclose(adv[:, 0], [0.68, -1.0, 2.3], rtol=1e-6)
    np.testing.assert_allclose(ret[:, 0], [1.18, 0.0, 3.8], rtol=1e-6)
    assert adv.dtype == np.float32 and adv.shape == (3, 1)


def test_gae_with_lambda_one_is_the_discounted_return_minus_value() -> None:
    rng = np.random.default_rng(0)
    rewards, values = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    adv, ret = gae(rewards, values, np.zeros((5, 2)), np.zeros(2), gamma=0.5, lam=1.0)
    expected = np.zeros(2)
    for t in range(4, -1, -1):
        expected = rewards[t] + 0.5 * expected
        np.testing.assert_allclose(ret[t], expected, rtol=1e-5)
    np.testing.assert_allclose(adv, ret - values, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("lam", [0.0, 0.95])
def test_gae_columns_are_independent(lam: float) -> None:
    rng = np.random.default_rng(1)
    r, v, d = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), (rng.random((6, 3)) < 0.3).astype(float)
    last = rng.normal(size=3)
    adv, _ = gae(r, v, d, last, 0.99, lam)
    for j in range(3):
        one, _ = gae(r[:, j : j + 1], v[:, j : j + 1], d[:, j : j + 1], last[j : j + 1], 0.99, lam)
        np.testing.assert_allclose(adv[:, j], one[:, 0], rtol=1e-6)
