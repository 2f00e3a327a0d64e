"""The CPU learner's kernels and threads: oneDNN matmuls only where they keep float32 accuracy, one BLAS
thread for NumPy within a sitting, and the caller's settings back afterwards."""

import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits
from torch import nn

from gamerl.training.cpu_kernels import fast_cpu_matmul, keeps_float32_accuracy, single_threaded_blas

WIDE = nn.Sequential(nn.Linear(64, 512), nn.Linear(512, 256))
NARROW = nn.Sequential(nn.Linear(4, 64), nn.Linear(64, 64))


@pytest.fixture(autouse=True)
def _highest_precision():
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    yield
    torch.set_float32_matmul_precision(previous)


def test_the_probe_accepts_float32_and_rejects_bfloat16_products() -> None:
    assert keeps_float32_accuracy(torch.matmul)
    assert not keeps_float32_accuracy(lambda a, b: (a.bfloat16() @ b.bfloat16()).float())
    assert not keeps_float32_accuracy(lambda a, b: (a @ b) * (1 + 1e-4))


def test_fast_cpu_matmul_keeps_float32_accuracy_and_restores_the_precision() -> None:
    torch.set_float32_matmul_precision("medium")  # oneDNN's products: float32 on AVX-512, bfloat16 on AMX
    onednn_keeps_float32 = keeps_float32_accuracy(torch.matmul)
    torch.set_float32_matmul_precision("highest")
    with fast_cpu_matmul(torch.device("cpu"), WIDE) as fast:
        assert fast == (torch.backends.mkldnn.is_available() and onednn_keeps_float32)
        assert torch.get_float32_matmul_precision() == ("medium" if fast else "highest")
        assert keeps_float32_accuracy(torch.matmul)
    assert torch.get_float32_matmul_precision() == "highest"


def test_fast_cpu_matmul_leaves_narrow_networks_to_mkl() -> None:
    with fast_cpu_matmul(torch.device("cpu"), NARROW) as fast:
        assert not fast and torch.get_float32_matmul_precision() == "highest"


def test_fast_cpu_matmul_turns_oneDNN_off_when_the_probe_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gamerl.training.cpu_kernels.keeps_float32_accuracy", lambda matmul: False)
    with fast_cpu_matmul(torch.device("cpu"), WIDE) as fast:
        assert not fast and torch.get_float32_matmul_precision() == "highest"


def test_fast_cpu_matmul_leaves_gpus_and_the_callers_setting_alone() -> None:
    with fast_cpu_matmul(torch.device("cuda"), WIDE) as fast:
        assert not fast and torch.get_float32_matmul_precision() == "highest"
    torch.set_float32_matmul_precision("high")
    with fast_cpu_matmul(torch.device("cpu"), WIDE) as fast:
        assert not fast and torch.get_float32_matmul_precision() == "high"
    assert torch.get_float32_matmul_precision() == "high"


def test_single_threaded_blas_limits_numpys_blas_and_restores_it() -> None:
    def blas_threads() -> set[int]:
        return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}

    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        with single_threaded_blas():
            assert blas_threads() == {1}
        assert blas_threads() == before
