"""The machine a bench runs on, for its first line: machines of one type may carry different CPUs (this
project's 2-core AMD EPYC machines multiplied 2,048 x 2,048 float32 matrices at 432 GFLOP/s one day, 193
on a family-25 CPU another, ``bench/update_kernels.py``)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

VECTOR_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile")
"""the instruction sets PyTorch's CPU kernels choose between"""


def describe_cpu() -> str:
    """``cpu: <name>, family F model M, N cores, <vector flags>`` from ``/proc/cpuinfo`` (Linux), else
    ``platform.processor()``."""
    info: dict[str, str] = {}
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    if not info:
        return f"cpu: {platform.processor() or 'unknown'}, {os.cpu_count()} cores"
    flags = [f for f in VECTOR_FLAGS if f in info.get("flags", "").split()]
    return (
        f"cpu: {info.get('model name', '?')}, family {info.get('cpu family', '?')} model {info.get('model', '?')}, "
        f"{os.cpu_count()} cores, {' '.join(flags) or 'no AVX2'}"
    )
