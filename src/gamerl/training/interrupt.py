"""Ctrl-C during training: stop at the next safe point with a checkpoint, not wherever the signal lands."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType, TracebackType
from typing import Any

STOPPING = (
    "gamerl: Ctrl-C: stopping after this {unit} and saving a checkpoint (Ctrl-C again stops at once, "
    "losing the work since the last checkpoint)"
)


class StopOnInterrupt:
    """Turns the first SIGINT into a request the training loop reads, so no update is lost.

    Inside ``with StopOnInterrupt("update") as interrupt:`` the first Ctrl-C only sets
    ``interrupt.requested``: the loop ends after the ``unit`` in progress, saves its checkpoint as it does at
    the end of its budget, and leaving the block raises :class:`KeyboardInterrupt`, so the command still ends
    as interrupted (exit status 130). A second Ctrl-C raises :class:`KeyboardInterrupt` at once. Outside the
    main thread, where Python allows no signal handlers, it changes nothing.
    """

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(STOPPING.format(unit=self.unit), file=sys.stderr, flush=True)

    def __enter__(self) -> StopOnInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
        if self.requested and exc_type is None:
            raise KeyboardInterrupt


def ignore_interrupts() -> None:
    """In a worker process: leave Ctrl-C (sent to the terminal's whole process group) to the parent.

    The parent decides when to stop and closes its workers; a worker killed by the signal mid-step
    would break the parent's last update and its checkpoint.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
