"""PPO's clipped surrogate and value loss against values computed by hand."""

import math

import torch

from gamerl.algorithms.ppo.losses import clipped_surrogate, value_loss


def test_clipped_surrogate_hand_computed() -> None:
    # ratios 1.5, 0.5, 1.1 with advantages 1, 1, -2 and eps 0.2:
    # min(1.5, 1.2) = 1.2; min(0.5, 0.8) = 0.5; min(-2.2, -2.2) = -2.2 → loss = -(-0.5 / 3)
    new_logp = torch.log(torch.tensor([1.5, 0.5, 1.1])).requires_grad_()
    terms = clipped_surrogate(new_logp, torch.zeros(3), torch.tensor([1.0, 1.0, -2.0]), clip=0.2)
    assert math.isclose(terms.loss.item(), 0.5 / 3, rel_tol=1e-6)
    assert math.isclose(terms.clip_fraction.item(), 2 / 3, rel_tol=1e-6)
    kl = ((0.5 - math.log(1.5)) + (-0.5 - math.log(0.5)) + (0.1 - math.log(1.1))) / 3
    assert math.isclose(terms.approx_kl.item(), kl, rel_tol=1e-5)
    terms.loss.backward()
    # the clipped sample (ratio 1.5 > 1.2 with A > 0) gets no gradient; the others get -r A / 3
    assert new_logp.grad is not None
    torch.testing.assert_close(new_logp.grad, torch.tensor([0.0, -0.5 / 3, 2.2 / 3]))


def test_surrogate_is_minus_mean_advantage_when_policies_are_equal() -> None:
    adv = torch.tensor([0.3, -1.2, 2.0, 0.1])
    terms = clipped_surrogate(torch.full((4,), -0.7), torch.full((4,), -0.7), adv, clip=0.2)
    assert math.isclose(terms.loss.item(), -adv.mean().item(), rel_tol=1e-6)
    assert terms.approx_kl.item() == 0.0 and terms.clip_fraction.item() == 0.0


def test_value_loss_is_half_mean_squared_error() -> None:
    assert math.isclose(value_loss(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 4.0])).item(), 0.5 * (1 + 4) / 2)
