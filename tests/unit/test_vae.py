"""V: shapes at both resolutions, the loss against a hand computation, a gradient step that learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gamerl.models.vae import ConvVAE, frames_to_input, vae_loss


@pytest.mark.parametrize(("resolution", "z_dim"), [(64, 32), (128, 200)])
def test_decoder_returns_exactly_the_input_size(resolution: int, z_dim: int) -> None:
    torch.manual_seed(0)
    model = ConvVAE(resolution)
    assert model.z_dim == z_dim
    x = torch.rand(3, 3, resolution, resolution)
    logits, mu, logvar = model(x)
    assert logits.shape == x.shape
    assert mu.shape == logvar.shape == (3, z_dim)
    assert model.decode(mu).min() >= 0 and model.decode(mu).max() <= 1


def test_configurable_latent_size() -> None:
    assert ConvVAE(64, z_dim=8).encode(torch.rand(1, 3, 64, 64))[0].shape == (1, 8)


def test_loss_matches_a_hand_computation() -> None:
    logits = torch.tensor([[[[0.0, 2.0]], [[-1.0, 0.5]], [[3.0, -2.0]]]] * 2)  # (2, 3, 1, 2)
    x = torch.tensor([[[[0.0, 1.0]], [[1.0, 0.25]], [[0.5, 0.0]]]] * 2)
    mu = torch.tensor([[0.5, -1.0], [0.0, 0.0]])
    logvar = torch.tensor([[0.0, np.log(2.0)], [0.0, 0.0]], dtype=torch.float32)
    p = 1 / (1 + np.exp(-logits.numpy()))
    xs = x.numpy()
    bce = -(xs * np.log(p) + (1 - xs) * np.log(1 - p)).sum() / 2
    # KL(N(mu, var) || N(0, 1)) = 0.5 (var + mu^2 - 1 - log var), per dimension
    var = np.exp(logvar.numpy())
    kl = 0.5 * (var + mu.numpy() ** 2 - 1 - logvar.numpy()).sum() / 2
    total, got_bce, got_kl = vae_loss(logits, x, mu, logvar, beta=4.0)
    assert got_bce.item() == pytest.approx(bce, rel=1e-5)
    assert got_kl.item() == pytest.approx(kl, rel=1e-5)
    assert total.item() == pytest.approx(bce + 4.0 * kl, rel=1e-5)


def test_frames_to_input_scales_and_transposes() -> None:
    frames = torch.from_numpy(np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3))
    x = frames_to_input(frames, channels_last=True)
    assert x.shape == (2, 3, 4, 4) and x.is_contiguous(memory_format=torch.channels_last)
    assert x[1, 2, 3, 1].item() == pytest.approx(frames[1, 3, 1, 2].item() / 255)


def test_a_few_adam_steps_reduce_the_loss_on_fixed_frames() -> None:
    torch.manual_seed(0)
    model = ConvVAE(64, z_dim=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    frames = torch.zeros(8, 64, 64, 3, dtype=torch.uint8)
    frames[:, 16:48, 16:48] = 200
    x = frames_to_input(frames)
    losses = []
    for _ in range(15):
        logits, mu, logvar = model(x)
        loss = vae_loss(logits, x, mu, logvar, 1.0)[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("channels_last", [False, True])
def test_decoder_matches_the_plain_transposed_convolutions(channels_last: bool) -> None:
    torch.manual_seed(0)
    model = ConvVAE(64)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    z = torch.randn(5, 32, requires_grad=True)
    plain = model.decoder(model.fc_decode(z).view(-1, model.decoder_width, 1, 1))
    fast = model.decode_logits(z)
    torch.testing.assert_close(fast, plain, rtol=1e-4, atol=1e-5)
    grads = [torch.autograd.grad(out.square().sum(), (z, model.decoder[0].weight)) for out in (plain, fast)]
    for got, want in zip(grads[1], grads[0], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
