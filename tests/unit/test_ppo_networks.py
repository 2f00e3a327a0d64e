"""PPO's networks: a Nature CNN shared by the policy and value heads, or one per network."""

import pytest
import torch

from gamerl.algorithms.ppo.heads import Head
from gamerl.algorithms.ppo.networks import SIGMOID_TANH_MIN, ActorCritic, Tanh
from gamerl.errors import ConfigError

HEADS = [Head("a0", "categorical", 6)]


def _conv_count(model: ActorCritic) -> int:
    return sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())


def test_shared_encoder_feeds_both_heads_once() -> None:
    torch.manual_seed(0)
    shared = ActorCritic((4, 84, 84), HEADS, (), (), share_encoder=True)
    separate = ActorCritic((4, 84, 84), HEADS, (), ())
    assert _conv_count(shared) == 3 and _conv_count(separate) == 6
    obs = torch.randint(0, 256, (5, 4 * 84 * 84)).float()
    dist, values = shared(obs)
    assert values.shape == (5,)
    assert torch.allclose(values, shared.state_value(obs))
    assert torch.allclose(dist.parts[0], shared.dist(obs).parts[0])
    trained_by_policy = {id(p) for p in shared.policy_parameters()}
    assert all(id(p) in trained_by_policy for p in shared.encoder.parameters())
    assert not any(id(p) in trained_by_policy for p in shared.value.parameters())


def test_separate_networks_keep_their_state_dict_keys() -> None:
    model = ActorCritic((4,), HEADS, (8,), (8,))
    assert not any(k.startswith("encoder") for k in model.state_dict())
    dist, values = model(torch.zeros(2, 4))
    assert values.shape == (2,) and dist.sample().shape == (2, 1)


def test_shared_encoder_needs_frames() -> None:
    with pytest.raises(ConfigError, match="share_encoder needs"):
        ActorCritic((4,), HEADS, (8,), (8,), share_encoder=True)


@pytest.mark.parametrize("shape", [(4, 8), (256, 64)])  # torch.tanh's path, then the sigmoid path
def test_tanh_matches_torch_tanh_in_value_and_gradient(shape: tuple[int, int]) -> None:
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0)) * 3
    x[0, :4] = torch.tensor([0.0, 1e-4, 20.0, -20.0])
    with torch.no_grad():
        torch.testing.assert_close(Tanh()(x), torch.tanh(x), atol=3e-7, rtol=0)
    leaf = x.clone().requires_grad_()
    grad = torch.randn(*shape)
    Tanh()(leaf).backward(grad)
    torch.testing.assert_close(leaf.grad, (1 - torch.tanh(x) ** 2) * grad, atol=1e-6, rtol=0)
    wide = torch.randn(2, SIGMOID_TANH_MIN, dtype=torch.float64, requires_grad=True)  # the sigmoid path, float64
    assert torch.autograd.gradcheck(Tanh(), (wide,), fast_mode=True)
