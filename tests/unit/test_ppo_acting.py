"""Acting in NumPy: the same actions, log-probabilities and values as the PyTorch model."""

import numpy as np
import torch

from gamerl.algorithms.ppo.acting import NumpyActor, TorchActor, make_actor
from gamerl.algorithms.ppo.heads import Head
from gamerl.algorithms.ppo.networks import ActorCritic

HEADS = [Head("move", "binned", 9, -1.0, 1.0), Head("slot", "categorical", 4), Head("turn", "gaussian", 1, -1.0, 1.0)]


def _model(seed: int = 0) -> ActorCritic:
    torch.manual_seed(seed)
    model = ActorCritic((6,), HEADS, (32, 16), (32,))
    with torch.no_grad():  # outputs and a std far from the initial near-uniform, unit ones
        model.policy[-1].weight.mul_(100)
        model.log_std.fill_(-0.7)
    return model


def test_numpy_actor_agrees_with_the_model() -> None:
    model = _model()
    obs = np.random.default_rng(1).normal(size=(64, 6)).astype(np.float32)
    actor = make_actor(model, np.random.default_rng(2))
    assert isinstance(actor, NumpyActor)
    acting = actor.act(obs)
    assert acting.actions.shape == (64, 3) and acting.logp.shape == acting.values.shape == (64,)
    assert acting.actions.dtype == acting.logp.dtype == acting.values.dtype == np.float32
    assert set(np.unique(acting.actions[:, 0])) <= set(range(9)) and set(np.unique(acting.actions[:, 1])) <= {
        0,
        1,
        2,
        3,
    }
    with torch.no_grad():
        dist, values = model(torch.from_numpy(obs))
        logp = dist.log_prob(torch.from_numpy(acting.actions))
    np.testing.assert_allclose(acting.logp, logp.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(acting.values, values.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(actor.state_value(obs), values.numpy(), rtol=1e-5, atol=1e-6)


def test_numpy_actor_samples_the_policy() -> None:
    model = _model()
    obs = np.repeat(np.random.default_rng(3).normal(size=(1, 6)).astype(np.float32), 40_000, axis=0)
    acting = make_actor(model, np.random.default_rng(4)).act(obs)
    dist = model.dist(torch.from_numpy(obs[:1]))
    for i in (0, 1):
        probs = dist.parts[i].exp()[0].detach().numpy()
        counts = np.bincount(acting.actions[:, i].astype(int), minlength=len(probs)) / len(obs)
        np.testing.assert_allclose(counts, probs, atol=0.01)
        assert probs.max() < 0.99  # the test would pass for a constant action otherwise
    gaussian = dist.parts[2]
    assert abs(acting.actions[:, 2].mean() - gaussian.mean.item()) < 0.01
    assert abs(acting.actions[:, 2].std() - gaussian.stddev.item()) < 0.01


def test_numpy_actor_is_seeded_and_follows_weights_changed_in_place() -> None:
    model = _model()
    obs = np.ones((8, 6), dtype=np.float32)
    first = make_actor(model, np.random.default_rng(5)).act(obs)
    again = make_actor(model, np.random.default_rng(5)).act(obs)
    np.testing.assert_array_equal(first.actions, again.actions)
    with torch.no_grad():  # as an optimizer step does
        model.value[-1].bias.add_(1.0)
    np.testing.assert_allclose(make_actor(model, np.random.default_rng(5)).act(obs).values, first.values + 1, rtol=1e-6)


def test_pixel_models_act_through_torch() -> None:
    torch.manual_seed(0)
    model = ActorCritic((4, 84, 84), [Head("a0", "categorical", 6)], (), (), share_encoder=True)
    actor = make_actor(model, np.random.default_rng(0))
    assert isinstance(actor, TorchActor)
    obs = np.random.default_rng(0).integers(0, 256, (3, 4 * 84 * 84)).astype(np.float32)
    acting = actor.act(obs)
    with torch.no_grad():
        dist, values = model(torch.from_numpy(obs))
        np.testing.assert_allclose(acting.logp, dist.log_prob(torch.from_numpy(acting.actions)).numpy(), rtol=1e-6)
    np.testing.assert_allclose(acting.values, values.numpy(), rtol=1e-6)


def test_sample_is_act_without_the_value_network() -> None:
    numpy_model = _model()
    obs = np.random.default_rng(6).normal(size=(16, 6)).astype(np.float32)
    sampled = make_actor(numpy_model, np.random.default_rng(7)).sample(obs)
    acting = make_actor(numpy_model, np.random.default_rng(7)).act(obs)
    np.testing.assert_array_equal(sampled[0], acting.actions)
    np.testing.assert_array_equal(sampled[1], acting.logp)
    torch.manual_seed(0)
    pixel_model = ActorCritic((4, 84, 84), [Head("a0", "categorical", 6)], (), (), share_encoder=True)
    frames = np.random.default_rng(0).integers(0, 256, (3, 4 * 84 * 84)).astype(np.float32)
    actor = make_actor(pixel_model, np.random.default_rng(0))
    torch.manual_seed(8)
    actions, logp = actor.sample(frames)
    torch.manual_seed(8)
    acting = actor.act(frames)
    np.testing.assert_array_equal(actions, acting.actions)
    np.testing.assert_allclose(logp, acting.logp, rtol=1e-6)
