"""One logger, two outputs: TensorBoard event files and a ``metrics.jsonl`` line per record."""

from __future__ import annotations

import fcntl
import json
import math
import os
import time
from pathlib import Path
from types import TracebackType

from torch.utils.tensorboard import SummaryWriter

from gamerl.errors import RunDirError

LOCK_FILE = ".lock"


class MetricLogger:
    """Log scalars under grouped keys (``train/…``, ``rollout/…``, ``eval/…``, ``charts/SPS``).

    Each :meth:`log` call appends one JSON line ``{"step": …, "time": …, key: value, …}`` to
    ``metrics.jsonl`` and writes the same scalars to TensorBoard under ``tb/``. While open it holds the
    directory's lock (:func:`lock_run`), so two sittings of one run (or stage) never write it at once.
    """

    def __init__(self, run_dir: Path, resume_step: int | None = None) -> None:
        """Lock ``run_dir`` and open the outputs; with ``resume_step``, drop records logged after that step
        (work to be redone)."""
        self.run_dir = run_dir
        self._lock = lock_run(run_dir)
        try:
            path = run_dir / "metrics.jsonl"
            if resume_step is not None and path.exists():
                kept = [json.dumps(r) + "\n" for r in read_metrics(run_dir) if r.get("step", 0) <= resume_step]
                tmp = path.with_suffix(".jsonl.tmp")
                tmp.write_text("".join(kept), encoding="utf-8")
                tmp.replace(path)
            self._jsonl = open(path, "a", encoding="utf-8")  # noqa: SIM115
            self._tb = SummaryWriter(log_dir=str(run_dir / "tb"), purge_step=resume_step)
        except BaseException:
            os.close(self._lock)
            raise

    def log(self, step: int, metrics: dict[str, float]) -> None:
        """Record ``metrics`` at global ``step`` (agent steps, or generations for evolution)."""
        clean = {k: float(v) for k, v in metrics.items()}
        for key, value in clean.items():
            if math.isfinite(value):
                self._tb.add_scalar(key, value, step)
        record = {"step": step, "time": time.time(), **{k: (v if math.isfinite(v) else None) for k, v in clean.items()}}
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()

    def close(self) -> None:
        """Flush and close both outputs; release the lock."""
        self._tb.close()
        self._jsonl.close()
        os.close(self._lock)

    def __enter__(self) -> MetricLogger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def lock_run(run_dir: Path) -> int:
    """Take ``run_dir``'s writer lock (an advisory ``flock`` on ``run_dir/.lock``); return its descriptor.

    One-line :class:`RunDirError` if another process holds it, e.g. a second ``--resume`` of a run still
    training. The system releases the lock however the holder ends, so it never goes stale.
    """
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunDirError(
            f"{run_dir} is being written by another gamerl process (pid {holder}): let it finish or stop it, "
            "then resume"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def read_metrics(run_dir: Path) -> list[dict[str, float]]:
    """Read every record of ``run_dir/metrics.jsonl`` (skipping a torn last line)."""
    path = run_dir / "metrics.jsonl"
    records = []
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
