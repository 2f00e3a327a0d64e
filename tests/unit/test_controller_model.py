"""The controller C: parameter count, output kinds, batched rows equal single rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from gamerl.models.controller import make_spec, to_env_action


def test_parameter_count_matches_the_seed_and_the_paper() -> None:
    # the seed: z 200, h and c 1024 each, 4 buttons: (200 + 2048) * 4 weights + 4 biases (its "8,896" is a slip)
    assert make_spec(spaces.MultiBinary(4), 200 + 2 * 1024).n_params == 8996
    # the paper's CarRacing C: [z 32, h 256] → 3 actions: 867 parameters
    assert make_spec(spaces.Box(-1, 1, (3,)), 32 + 256).n_params == 867
    # its hidden-layer variant (40 tanh units)
    assert make_spec(spaces.Box(-1, 1, (3,)), 288, hidden=40).n_params == 288 * 40 + 40 + 40 * 3 + 3


def test_buttons_threshold_at_half() -> None:
    spec = make_spec(spaces.MultiBinary(2), 1)
    params = torch.tensor([[1.0, -1.0, 0.0, 0.0]])  # w = [1, -1], b = 0
    assert spec.act(params, torch.tensor([[2.0]])).tolist() == [[1.0, 0.0]]
    assert to_env_action(spec, np.array([1.0, 0.0], np.float32)).tolist() == [1, 0]


def test_discrete_is_one_hot_of_argmax() -> None:
    spec = make_spec(spaces.Discrete(3), 2)
    params = torch.zeros(1, spec.n_params)
    params[0, -3:] = torch.tensor([0.1, 0.5, -1.0])  # biases decide
    action = spec.act(params, torch.randn(1, 2))
    assert action.tolist() == [[0.0, 1.0, 0.0]] and to_env_action(spec, action[0].numpy()) == 1


def test_continuous_stays_in_the_box() -> None:
    spec = make_spec(spaces.Box(np.array([-1, 0, 0]), np.array([1, 1, 1]), dtype=np.float32), 4)
    actions = spec.act(torch.randn(64, spec.n_params) * 10, torch.randn(64, 4) * 10)
    assert actions[:, 0].min() >= -1 and actions[:, 1:].min() >= 0 and actions.max() <= 1


@pytest.mark.parametrize("hidden", [0, 5])
def test_a_batch_of_candidates_equals_each_alone(hidden: int) -> None:
    spec = make_spec(spaces.Box(-1, 1, (3,)), 7, hidden)
    gen = torch.Generator().manual_seed(0)
    params, features = torch.randn(6, spec.n_params, generator=gen), torch.randn(6, 7, generator=gen)
    batched = spec.outputs(params, features)
    alone = torch.cat([spec.outputs(params[i : i + 1], features[i : i + 1]) for i in range(6)])
    torch.testing.assert_close(batched, alone)
    # and against a plain nn.Linear reading the same numbers
    if hidden == 0:
        w = params[0, :21].view(7, 3)
        torch.testing.assert_close(batched[0], features[0] @ w + params[0, 21:])
