"""PPO's networks: a Nature CNN shared by the policy and value heads, or one per network."""

import dataclasses

import numpy as np
import pytest
import torch

from gamerl.algorithms.ppo import networks
from gamerl.algorithms.ppo.acting import NumpyActor, make_actor
from gamerl.algorithms.ppo.heads import Head
from gamerl.algorithms.ppo.networks import (
    MLP,
    SIGMOID_TANH_MIN,
    ActorCritic,
    ByteFrameConv2d,
    PixelEncoder,
    Tanh,
    computes_in_bfloat16,
    onednn_bfloat16,
)
from gamerl.algorithms.ppo.session import build_model
from gamerl.algorithms.ppo.train import Batch, make_optimizers, update
from gamerl.config.ppo import PRESETS
from gamerl.errors import ConfigError

HEADS = [Head("a0", "categorical", 6)]
DERK_HEADS = [Head("move_x", "binned", 9), Head("cast_slot", "categorical", 4)]
PRECISIONS = ("float32", "bfloat16")


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


def _pong_models() -> tuple[ActorCritic, ActorCritic]:
    """The same weights computing in float32 and in bfloat16."""
    torch.manual_seed(0)
    exact = ActorCritic((4, 84, 84), HEADS, (), (), share_encoder=True, pixel_precision="float32")
    fast = ActorCritic((4, 84, 84), HEADS, (), (), share_encoder=True, pixel_precision="bfloat16")
    fast.load_state_dict(exact.state_dict())
    return exact, fast


def _frames(n: int) -> torch.Tensor:
    return torch.randint(0, 256, (n, 4 * 84 * 84), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))


def test_uint8_frames_and_their_float32_values_give_the_same_features() -> None:
    exact, _ = _pong_models()
    frames = _frames(4)
    with torch.no_grad():
        torch.testing.assert_close(exact.encoder(frames), exact.encoder(frames.float()), atol=0, rtol=0)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_frames_prepared_once_give_what_flat_frames_give(precision: str) -> None:
    torch.manual_seed(0)
    model = ActorCritic((4, 84, 84), HEADS, (), (), share_encoder=True, pixel_precision=precision)
    frames = _frames(6)
    prepared = model.prepare(frames)
    assert prepared.shape == (6, 64, 21, 21) and prepared.is_contiguous(memory_format=torch.channels_last)
    assert prepared.dtype == torch.uint8  # half the bytes of bfloat16 through the minibatches
    with torch.no_grad():
        (dist, values), (flat_dist, flat_values) = model(prepared), model(frames)
    assert torch.equal(values, flat_values) and torch.equal(dist.parts[0], flat_dist.parts[0])
    vectors = torch.randn(3, 4)
    assert ActorCritic((4,), HEADS, (8,), (8,)).prepare(vectors) is vectors


@pytest.mark.parametrize("size", [(84, 84), (85, 90), (96, 64)])  # rows and columns no output reaches: cut
@pytest.mark.parametrize("stride", [4, 2, 8])  # bytes of a block row move as one int32, int16, int64
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float64])  # other dtypes move value by value
def test_byte_frame_conv_is_a_strided_conv_of_scaled_frames(
    size: tuple[int, int], stride: int, dtype: torch.dtype
) -> None:
    torch.manual_seed(0)
    conv = ByteFrameConv2d(3, 5, 8, stride=stride).double()
    plain = torch.nn.Conv2d(3, 5, 8, stride=stride).double()
    plain.load_state_dict(conv.state_dict())  # the same parameters and keys
    frames = torch.randint(0, 256, (2, 3, *size), generator=torch.Generator().manual_seed(1)).to(dtype)
    blocks = conv.blocks(frames)
    assert blocks.dtype == dtype and blocks.shape[1] == 3 * stride**2
    assert blocks.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(conv(blocks.double()), plain(frames.double() / 255), atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="stride that divides the kernel"):
        ByteFrameConv2d(3, 5, 8, stride=3)


def test_encoder_is_the_nature_cnn_of_its_weights() -> None:
    """Checkpoints keep their meaning: the encoder computes the plain Nature CNN of its state dict."""
    torch.manual_seed(0)
    model = ActorCritic((4, 84, 84), HEADS, (), (), share_encoder=True, pixel_precision="float32")
    nn = torch.nn
    plain = nn.Sequential(
        nn.Conv2d(4, 32, 8, stride=4), nn.ReLU(), nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3136, 512), nn.ReLU(),
    )  # fmt: skip
    keys = {"conv.0": "0", "conv.2": "2", "conv.4": "4", "out.0": "7"}
    weights = {keys[k.rsplit(".", 1)[0]] + "." + k.rsplit(".", 1)[1]: v for k, v in model.encoder.state_dict().items()}
    plain.load_state_dict(weights)
    frames = _frames(3)
    with torch.no_grad():
        torch.testing.assert_close(model.encoder(frames), plain(frames.float().view(3, 4, 84, 84) / 255))


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("share_encoder", [True, False])
def test_the_acting_copy_gives_the_same_outputs_bit_for_bit(precision: str, share_encoder: bool) -> None:
    torch.manual_seed(0)
    model = ActorCritic((4, 84, 84), HEADS, (), (), share_encoder=share_encoder, pixel_precision=precision)
    acting = model.for_acting()
    frames = _frames(8)
    with torch.no_grad():
        (dist, values), (acting_dist, acting_values) = model(frames), acting(frames)
    assert torch.equal(values, acting_values) and torch.equal(dist.parts[0], acting_dist.parts[0])
    assert not any(p.requires_grad for p in acting.parameters())
    assert all(p.dtype == torch.float32 and p.requires_grad for p in model.parameters())  # the original trains on
    encoders = [m for m in acting.modules() if isinstance(m, PixelEncoder)]
    bfloat16 = computes_in_bfloat16(precision, torch.device("cpu"))
    assert {p.dtype for m in encoders for p in m.parameters()} == {torch.bfloat16 if bfloat16 else torch.float32}
    # where oneDNN has bfloat16, the outputs above came from the packed layers
    assert {m.packed is not None for m in encoders} == {bfloat16 and onednn_bfloat16(torch.device("cpu"))}


def _assert_near_float32_with_float32_gradients(
    exact: torch.nn.Module, fast: torch.nn.Module, out: torch.Tensor, fast_out: torch.Tensor
) -> None:
    """``fast_out`` (computed in bfloat16 from ``fast``'s copy of ``exact``'s weights) is float32 and near
    ``out``; after a backward pass through both models, ``fast``'s gradients are float32 and near ``exact``'s."""
    assert fast_out.dtype == torch.float32  # heads and losses stay float32
    error = (fast_out - out).abs().max() / out.abs().max()
    assert 0 < error < 0.03  # bfloat16 keeps 8 bits of mantissa; 0 would mean it computed in float32
    for a, b in zip(exact.parameters(), fast.parameters(), strict=True):
        assert b.dtype == torch.float32 and b.grad is not None and b.grad.dtype == torch.float32
        assert torch.nn.functional.cosine_similarity(a.grad.flatten(), b.grad.flatten(), dim=0) > 0.99


def test_bfloat16_encoder_computes_near_float32_and_trains_float32_weights() -> None:
    exact, fast = _pong_models()
    frames = _frames(16)
    features, bf16_features = exact.encoder(frames), fast.encoder(frames)
    for model in (exact, fast):
        dist, values = model(frames)
        (values.sum() - dist.log_prob(torch.zeros(16, 1)).sum()).backward()
    _assert_near_float32_with_float32_gradients(exact.encoder, fast.encoder, features, bf16_features)


def _derk_sized_models() -> tuple[ActorCritic, ActorCritic]:
    """The Derk report's networks on 64 observations, hidden layers in float32 and in bfloat16, same weights."""
    torch.manual_seed(0)
    exact, fast = (
        ActorCritic((64,), DERK_HEADS, (512, 256, 256), (512, 512, 256), mlp_precision=p) for p in PRECISIONS
    )
    fast.load_state_dict(exact.state_dict())  # the same keys: weights move between the precisions
    return exact, fast


def test_bfloat16_hidden_layers_compute_near_float32_and_train_float32_weights() -> None:
    exact, fast = _derk_sized_models()
    obs = torch.randn(256, 64, generator=torch.Generator().manual_seed(1))
    actions = torch.zeros(256, len(DERK_HEADS))
    outputs = []
    for model in (exact, fast):
        dist, values = model(obs)
        (values.sum() - dist.log_prob(actions).sum()).backward()
        outputs.append(torch.cat([values.unsqueeze(1), *dist.parts], 1))
    exact_nets, fast_nets = (torch.nn.ModuleList([m.policy, m.value]) for m in (exact, fast))
    _assert_near_float32_with_float32_gradients(exact_nets, fast_nets, *outputs)


def _graph_nodes(out: torch.Tensor) -> set[str]:
    """Names of the autograd nodes that ``out`` was computed through."""
    names, stack = set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None:
            names.add(node.name())
            stack += [next_node for next_node, _ in node.next_functions]
    return names


@pytest.mark.skipif(not onednn_bfloat16(torch.device("cpu")), reason="oneDNN has no bfloat16 on this CPU")
def test_fused_bfloat16_layers_compute_what_autocast_computes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hidden layers as oneDNN matmuls with the tanh fused in, against autocast's matmul then tanh: the same
    values and gradients (input's too) up to bfloat16 rounding."""
    torch.manual_seed(0)
    mlp = MLP(64, (512, 256), 9, 0.01, "bfloat16")
    obs = torch.randn(4096, 64, generator=torch.Generator().manual_seed(1))  # above SIGMOID_TANH_MIN per layer
    grad_out = torch.randn(4096, 9, generator=torch.Generator().manual_seed(2))
    results = []
    for fused in (True, False):
        monkeypatch.setattr(networks, "onednn_bfloat16", lambda device, fused=fused: fused)
        mlp.zero_grad()
        x = obs.clone().requires_grad_(True)
        out = mlp(x)
        out.backward(grad_out)
        assert ("_LinearTanhBF16Backward" in _graph_nodes(out)) == fused
        results.append([out, x.grad, *(p.grad for p in mlp.parameters())])
    for fused, unfused in zip(*results, strict=True):
        assert fused.dtype == unfused.dtype == torch.float32
        assert (fused - unfused).norm() / unfused.norm() < 0.02  # bfloat16 keeps 8 bits of mantissa


@pytest.mark.skipif(not onednn_bfloat16(torch.device("cpu")), reason="oneDNN has no bfloat16 on this CPU")
def test_fused_convolutions_train_as_autocast_bit_for_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The encoder's convolutions with their ReLUs fused in (training, bfloat16) give autocast's features and
    gradients, bit for bit."""
    torch.manual_seed(0)
    model = ActorCritic((4, 84, 84), HEADS, (), (), share_encoder=True, pixel_precision="bfloat16")
    frames = _frames(32)
    results = []
    for fused in (True, False):
        monkeypatch.setattr(networks, "onednn_bfloat16", lambda device, fused=fused: fused)
        model.zero_grad()
        dist, values = model(frames)
        (values.square().sum() - dist.log_prob(torch.ones(32, 1)).sum()).backward()
        assert ("_ConvReLUBF16Backward" in _graph_nodes(values)) == fused
        results.append([values, dist.parts[0], *(p.grad for p in model.encoder.parameters())])
    assert all(torch.equal(a, b) for a, b in zip(*results, strict=True))


def test_other_platforms_compute_bfloat16_layers_under_autocast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(networks.platform, "machine", lambda: "arm64")
    assert not onednn_bfloat16(torch.device("cpu"))
    exact, fast = _derk_sized_models()
    obs = torch.randn(256, 64, generator=torch.Generator().manual_seed(1))
    out = fast.state_value(obs)
    assert "_LinearTanhBF16Backward" not in _graph_nodes(out)
    assert 0 < (out - exact.state_value(obs)).abs().max() < 0.03 * exact.state_value(obs).abs().max()
    pixels = ActorCritic((4, 84, 84), HEADS, (), (), share_encoder=True, pixel_precision="bfloat16")
    assert "_ConvReLUBF16Backward" not in _graph_nodes(pixels.state_value(_frames(2)))
    assert pixels.for_acting().encoder.packed is None


def test_numpy_acting_stays_float32_when_updates_compute_in_bfloat16() -> None:
    exact, fast = _derk_sized_models()
    obs = np.random.default_rng(0).standard_normal((8, 64), dtype=np.float32)
    acted = [make_actor(model, np.random.default_rng(1)).act(obs) for model in (exact, fast)]
    assert isinstance(make_actor(fast, np.random.default_rng(1)), NumpyActor)
    for a, b in zip(*acted, strict=True):
        np.testing.assert_array_equal(a, b)


def test_auto_precision_is_bfloat16_only_on_cpus_with_native_bfloat16(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    for avx512_bf16, amx in ((False, False), (True, False), (False, True)):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx512_bf16: v)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v)
        assert computes_in_bfloat16("auto", cpu) == (avx512_bf16 or amx)
        assert not computes_in_bfloat16("auto", gpu)  # GPUs keep float32 unless asked
        assert computes_in_bfloat16("bfloat16", cpu) and computes_in_bfloat16("bfloat16", gpu)
        assert not computes_in_bfloat16("float32", cpu)


@pytest.mark.parametrize("native_bfloat16", [False, True])
def test_auto_mlp_precision_computes_in_bfloat16_only_where_the_cpu_has_it(
    monkeypatch: pytest.MonkeyPatch, native_bfloat16: bool
) -> None:
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native_bfloat16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    torch.manual_seed(0)
    exact, auto = (ActorCritic((64,), DERK_HEADS, (512, 256), (512, 256), mlp_precision=p) for p in ("float32", "auto"))
    auto.load_state_dict(exact.state_dict())
    obs = torch.randn(64, 64, generator=torch.Generator().manual_seed(1))
    error = (auto.state_value(obs) - exact.state_value(obs)).abs().max()
    assert (error > 0) == native_bfloat16  # bfloat16 rounds; float32 reproduces the same weights' values exactly


@pytest.mark.parametrize(
    ("preset", "precision", "obs_shape"),
    [("atari", {"pixel_precision": "bfloat16"}, (4, 84, 84)), ("cartpole", {"mlp_precision": "bfloat16"}, (64,))],
    ids=["uint8-frames", "mlp"],
)
def test_a_bfloat16_update_raises_the_advantaged_actions_probability(
    preset: str, precision: dict[str, str], obs_shape: tuple[int, ...]
) -> None:
    config = dataclasses.replace(PRESETS[preset][1], **precision, epochs=2, minibatches=2)  # type: ignore[arg-type]
    torch.manual_seed(0)
    model = build_model(config, obs_shape, HEADS)
    n = 32
    obs = _frames(n) if len(obs_shape) == 3 else torch.randn(n, *obs_shape, generator=torch.Generator().manual_seed(1))
    actions = (torch.arange(n) % 2).float().unsqueeze(1)  # actions 0 and 1 alternately
    advantages = 1 - 2 * actions[:, 0]  # +1 for action 0, -1 for action 1
    with torch.no_grad():
        logp = model.dist(obs).log_prob(actions)
        before = model.dist(obs).log_prob(torch.zeros(n, 1)).mean()
    batch = Batch(obs, actions, logp, advantages, returns=torch.zeros(n))
    update(model, make_optimizers(model, config), batch, config, torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert model.dist(obs).log_prob(torch.zeros(n, 1)).mean() > before + 1e-3
    assert all(p.dtype == torch.float32 for p in model.parameters())
