"""Action heads: discretisation round trip, spaces → heads, per-head entropies and log-probs."""

import math

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch.distributions import Categorical

from gamerl.algorithms.ppo.heads import (
    Head,
    HeadsDistribution,
    bins_to_values,
    env_values,
    heads_for_space,
    values_to_bins,
)
from gamerl.envs.derk import HEAD_NAMES, action_space
from gamerl.errors import ConfigError


@pytest.mark.parametrize(("low", "high", "bins"), [(-1.0, 1.0, 9), (0.0, 1.0, 9), (-2.0, 3.0, 2)])
def test_discretisation_round_trip(low: float, high: float, bins: int) -> None:
    head = Head("x", "binned", bins, low, high)
    indices = np.arange(bins)
    values = bins_to_values(indices, head)
    assert values[0] == low and values[-1] == high
    np.testing.assert_array_equal(values_to_bins(values, head), indices)
    # a value is mapped to its nearest bin, and out-of-range values to the end bins
    np.testing.assert_array_equal(values_to_bins(values + (high - low) / (bins - 1) * 0.4, head)[:-1], indices[:-1])
    assert values_to_bins(np.array([low - 5, high + 5]), head).tolist() == [0, bins - 1]


def test_nine_bins_of_movex_are_quarter_steps() -> None:
    head = Head("move_x", "binned", 9, -1.0, 1.0)
    np.testing.assert_allclose(bins_to_values(np.arange(9), head), np.linspace(-1, 1, 9))


def test_derk_action_space_gives_the_reports_heads() -> None:
    heads = heads_for_space(action_space(), "binned", 9, HEAD_NAMES)
    assert [(h.name, h.kind, h.size) for h in heads] == [
        ("move_x", "binned", 9),
        ("rotate", "binned", 9),
        ("chase_focus", "binned", 9),
        ("cast_slot", "categorical", 4),
        ("focus", "categorical", 8),
    ]
    gaussian = heads_for_space(action_space(), "gaussian", 9, HEAD_NAMES)
    assert [h.kind for h in gaussian] == ["gaussian"] * 3 + ["categorical"] * 2
    values = env_values(np.array([[0, 8, 4, 3, 7]]), heads)
    np.testing.assert_allclose(values, [[-1.0, 1.0, 0.5, 3, 7]])


def test_unsupported_space_is_a_one_line_error() -> None:
    with pytest.raises(ConfigError, match="cannot act"):
        heads_for_space(spaces.Box(0, 1, (2, 2)))


def test_distribution_entropy_per_head_and_joint_log_prob() -> None:
    heads = [Head("a", "categorical", 4), Head("b", "binned", 9, -1, 1), Head("c", "gaussian", 1, -1, 1)]
    params = torch.zeros((2, 4 + 9 + 1))
    dist = HeadsDistribution(heads, params, torch.zeros(1))
    entropy = dist.entropy()
    assert entropy.shape == (2, 3)
    torch.testing.assert_close(entropy[0, :2], torch.tensor([math.log(4), math.log(9)]))
    assert math.isclose(entropy[0, 2].item(), 0.5 * math.log(2 * math.pi * math.e), rel_tol=1e-6)
    actions = torch.tensor([[1.0, 3.0, 0.0], [2.0, 0.0, 0.0]])
    expected = -math.log(4) - math.log(9) - 0.5 * math.log(2 * math.pi)
    torch.testing.assert_close(dist.log_prob(actions), torch.full((2,), expected))
    torch.manual_seed(0)
    sample = dist.sample()
    assert sample.shape == (2, 3) and (sample[:, 0] < 4).all() and (sample[:, 1] < 9).all()


def test_categorical_heads_match_torch_distributions() -> None:
    heads = [Head("a", "categorical", 4), Head("b", "binned", 9, -1, 1)]
    params = torch.randn((500, 13), generator=torch.Generator().manual_seed(0)) * 3
    dist = HeadsDistribution(heads, params, torch.zeros(0))
    references = [Categorical(logits=params[:, :4]), Categorical(logits=params[:, 4:])]
    torch.manual_seed(1)
    actions = dist.sample()
    expected_logp = sum(ref.log_prob(actions[:, i].long()) for i, ref in enumerate(references))
    torch.testing.assert_close(dist.log_prob(actions), expected_logp)
    torch.testing.assert_close(dist.entropy(), torch.stack([ref.entropy() for ref in references], -1))
    torch.testing.assert_close(dist.mode()[:, 1], references[1].probs.argmax(-1).float())
    # samples follow the probabilities: head a of one row, drawn 20,000 times
    row = HeadsDistribution(heads[:1], params[:1, :4].expand(20_000, 4), torch.zeros(0))
    counts = torch.bincount(row.sample()[:, 0].long(), minlength=4) / 20_000
    torch.testing.assert_close(counts, references[0].probs[0], atol=0.015, rtol=0)
