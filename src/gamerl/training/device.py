"""Which torch device a learner runs on: ``auto`` picks a CUDA GPU when PyTorch sees one."""

from __future__ import annotations

import torch

from gamerl.errors import ConfigError


def device_check(name: str) -> tuple[bool, str]:
    """The check of every ``device`` option's spelling, as (ok, one-line message); see :func:`resolve_device`."""
    message = f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got '{name}': pass --device auto"
    if name == "auto":
        return True, message
    try:
        kind = torch.device(name).type
    except RuntimeError:
        return False, message
    return kind in ("cpu", "cuda"), message


def resolve_device(name: str) -> torch.device:
    """``auto`` → ``cuda`` if PyTorch sees a GPU, else ``cpu``; a misspelt device or a named GPU that is not
    there is a one-line error."""
    ok, message = device_check(name)
    if not ok:
        raise ConfigError(message)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (device.index or 0) >= count:
            build = f"this torch {torch.__version__} sees {count} CUDA GPU(s)"
            raise ConfigError(f"--device {name}: {build}: pass --device cpu (or auto)")
    return device
