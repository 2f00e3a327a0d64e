"""Which kernels and threads a CPU learner uses.

PyTorch's CPU wheel multiplies float32 matrices with MKL, which runs its AVX2 code on AMD CPUs; oneDNN,
also in the wheel, uses AVX-512 there: a Derk update took 0.62-0.70x MKL's time on the AMD EPYC of
``docs/results/derk_ppo.md`` (``bench/update_kernels.py``). PyTorch routes float32 matmuls through oneDNN
only under ``torch.set_float32_matmul_precision("medium")``, which also lets oneDNN compute in bfloat16
on CPUs with fast bfloat16 (AMX). :func:`fast_cpu_matmul` turns it on only where a probe shows the
results keep float32 accuracy.

NumPy's OpenBLAS starts a thread per core and keeps them spinning between calls; during a rollout they
take CPU time from the game (Derk's browser) for tiny matrix products: see :func:`single_threaded_blas`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from threadpoolctl import threadpool_limits
from torch import nn

WIDE_LAYER = 256 * 256
"""weights of the smallest linear layer for which :func:`fast_cpu_matmul` turns oneDNN on"""

FLOAT32_TOLERANCE = 1e-5
"""largest error of a probe product, relative to its largest entry, that counts as float32 accuracy
(float32 gives ≈4e-7 for the first probe product, bfloat16 ≈4e-3)"""


def keeps_float32_accuracy(matmul: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Whether ``matmul`` of random float32 matrices agrees with float64 to :data:`FLOAT32_TOLERANCE`, for
    a layer's forward product ``(256, 512) @ (512, 512)`` and a weight gradient's ``(256, 512).T @ (256, 64)``."""
    generator = torch.Generator().manual_seed(0)
    x, w, grad = (torch.randn(*shape, generator=generator) for shape in ((256, 512), (512, 512), (256, 64)))
    for a, b in ((x, w), (x.t(), grad)):
        exact = a.double() @ b.double()
        error = (matmul(a, b).double() - exact).abs().max() / exact.abs().max()
        if not error <= FLOAT32_TOLERANCE:
            return False
    return True


def has_wide_layers(model: nn.Module) -> bool:
    """Whether ``model`` has a linear layer of at least :data:`WIDE_LAYER` weights, where oneDNN's
    products pay: a Derk update (512-wide layers) took 0.62-0.70x MKL's time, a CartPole update (64-wide)
    0.95-0.96x, too little to change a process-wide setting for (``bench/update_kernels.py``, ``--preset cartpole``)."""
    return any(layer.weight.numel() >= WIDE_LAYER for layer in model.modules() if isinstance(layer, nn.Linear))


@contextlib.contextmanager
def onednn_matmul() -> Iterator[bool]:
    """Within the block, float32 matmuls on the CPU go through oneDNN where it keeps float32 accuracy (see the
    module docstring); yields whether they do. The previous precision is restored on exit."""
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("medium")
    use = keeps_float32_accuracy(torch.matmul)
    torch.set_float32_matmul_precision("medium" if use else previous)
    try:
        yield use
    finally:
        torch.set_float32_matmul_precision(previous)


def fast_cpu_matmul(device: torch.device, model: nn.Module) -> contextlib.AbstractContextManager[bool]:
    """:func:`onednn_matmul` where ``model`` has wide layers and runs on the CPU; yields whether oneDNN is
    used. GPUs and the caller's own setting are left alone."""
    wanted = device.type == "cpu" and torch.get_float32_matmul_precision() == "highest"
    wanted = wanted and torch.backends.mkldnn.is_available() and has_wide_layers(model)
    return onednn_matmul() if wanted else contextlib.nullcontext(False)


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """Within the block, NumPy's BLAS uses one thread: its matrices here are one env step's observations,
    and idle BLAS threads spin on cores an env needs (a 128-arena Derk game's acting: 12-14 s with OpenBLAS's
    2 threads, 1.5 s with one, ``bench/derk_rollout.py``)."""
    return threadpool_limits(1, user_api="blas")
