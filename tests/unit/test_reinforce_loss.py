"""The torch loss must give exactly the gradient of the post's numpy code."""

import numpy as np
import torch

from gamerl.algorithms.pg.episodes import EpisodeBuffer, sparse_frames, split_nonzeros
from gamerl.algorithms.pg.reinforce import episode_advantages, reinforce_loss
from gamerl.models.policies import PixelPolicy, p_up_from_nonzeros


def _post_policy_backward(W1, W2, epx, eph, epdlogp):
    """The post's policy_backward (W1: (H, D), W2: (H,), epx: (T, D), eph: (T, H), epdlogp: (T,))."""
    dW2 = np.dot(eph.T, epdlogp).ravel()
    dh = np.outer(epdlogp, W2)
    dh[eph <= 0] = 0
    dW1 = np.dot(dh.T, epx)
    return dW1, dW2


def test_gradient_equals_post_formula():
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    policy = PixelPolicy(input_dim=50, hidden=8).double()
    x = rng.integers(-1, 2, size=(30, 50)).astype(np.float64)
    actions = rng.integers(0, 2, size=30).astype(np.float64)
    advantages = rng.normal(size=30)

    logits = policy(torch.from_numpy(x))
    loss = reinforce_loss(logits, torch.from_numpy(actions), torch.from_numpy(advantages))
    loss.backward()

    W1, W2 = policy.w1.detach().numpy(), policy.w2.detach().numpy()
    h = np.maximum(W1 @ x.T, 0).T
    p = 1 / (1 + np.exp(-(h @ W2)))
    epdlogp = (actions - p) * advantages  # the post: grad that encourages the sampled action, times A
    dW1, dW2 = _post_policy_backward(W1, W2, x, h, epdlogp)
    # the post ascends its gradient; torch descends the loss: grad(loss) == -grad(post)
    np.testing.assert_allclose(policy.w1.grad.numpy(), -dW1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(policy.w2.grad.numpy(), -dW2, rtol=1e-10, atol=1e-12)


def test_sparse_batch_forward_equals_dense():
    rng = np.random.default_rng(1)
    buffer = EpisodeBuffer()
    dense = rng.choice([-1, 0, 0, 0, 1], size=(12, 6400)).astype(np.int8)
    for frame in split_nonzeros(dense):
        buffer.append(frame, 1, 0.0)
    episode = buffer.finish()
    policy = PixelPolicy()
    with torch.no_grad():
        np.testing.assert_allclose(
            policy(sparse_frames([episode, episode])).numpy(),
            policy(torch.from_numpy(np.concatenate([dense, dense])).float()).numpy(),
            rtol=1e-5,
            atol=1e-5,
        )


def test_advantages_standardised_per_batch_or_per_episode():
    buffers = [EpisodeBuffer(), EpisodeBuffer()]
    for reward in (0, 0, 1):
        buffers[0].append(split_nonzeros(np.zeros((1, 6400), np.int8))[0], 1, float(reward))
    for reward in (0, -1):
        buffers[1].append(split_nonzeros(np.zeros((1, 6400), np.int8))[0], 0, float(reward))
    episodes = [b.finish() for b in buffers]
    batch = episode_advantages(episodes, 0.99, True, "batch")
    assert batch.shape == (5,) and abs(batch.mean()) < 1e-6 and abs(batch.std() - 1) < 1e-5
    per_episode = episode_advantages(episodes, 0.99, True, "episode")
    assert abs(per_episode[:3].mean()) < 1e-6 and abs(per_episode[3:].mean()) < 1e-6


def test_acting_fast_path_equals_dense_forward():
    rng = np.random.default_rng(2)
    dense = rng.choice([-1, 0, 0, 0, 0, 1], size=(5, 6400)).astype(np.int8)
    dense[3] = 0  # an all-zero frame (the first step of a game)
    policy = PixelPolicy()
    with torch.no_grad():
        expected = torch.sigmoid(policy(torch.from_numpy(dense).float())).numpy()
    got = p_up_from_nonzeros(policy.acting_weights(), split_nonzeros(dense))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
