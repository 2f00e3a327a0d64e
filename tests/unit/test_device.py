"""Which torch device a learner runs on, and the one-line errors for a device that is misspelt or absent."""

from collections.abc import Callable

import pytest
import torch

from gamerl.config.ppo import PPOConfig
from gamerl.config.worldmodels import MDNConfig, VAEConfig
from gamerl.errors import ConfigError
from gamerl.training.device import resolve_device


def test_auto_picks_a_gpu_only_where_pytorch_sees_one() -> None:
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "mps", "tpu"])
@pytest.mark.parametrize(
    "check",
    [resolve_device, lambda d: PPOConfig(device=d), lambda d: VAEConfig(device=d), lambda d: MDNConfig(device=d)],
    ids=["resolve_device", "PPOConfig", "VAEConfig", "MDNConfig"],
)
def test_a_device_other_than_cpu_or_cuda_is_a_config_error(name: str, check: Callable[[str], object]) -> None:
    with pytest.raises(ConfigError, match="pass --device auto") as info:
        check(name)
    assert "\n" not in str(info.value)


def test_a_gpu_pytorch_does_not_see_is_refused_in_one_line() -> None:
    missing = f"cuda:{torch.cuda.device_count()}"  # one past the last GPU (cuda:0 on a machine without one)
    with pytest.raises(ConfigError, match=rf"--device {missing}: this torch .* sees \d+ CUDA GPU") as info:
        resolve_device(missing)
    assert str(info.value).endswith("pass --device cpu (or auto)")
