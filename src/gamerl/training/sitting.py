"""One sitting of a training run: the rules that end it early (``--max-minutes``, Ctrl-C) and its clock."""

from __future__ import annotations

import time
from types import TracebackType

from gamerl.training.interrupt import StopOnInterrupt


class Sitting:
    """What every trainer asks once per unit of work: must it stop now, and how long has the run trained?

    ``with Sitting("update", config.max_minutes, already_s) as sitting:`` then ``if sitting.should_stop():
    break`` after each unit, save a checkpoint, and leave the block. ``max_minutes`` counts this sitting only
    (None: no limit); ``already_s``, the seconds earlier sittings trained, is added to :attr:`elapsed` so a
    resumed run's clock goes on where it stopped. Ctrl-C is handled as by :class:`StopOnInterrupt`: the first
    one makes :meth:`should_stop` true and leaving the block raises :class:`KeyboardInterrupt`.
    """

    def __init__(self, unit: str, max_minutes: float | None, already_s: float = 0.0) -> None:
        self.budget_s = None if max_minutes is None else 60.0 * max_minutes
        self.already_s = already_s
        self._interrupt = StopOnInterrupt(unit)
        self._start = time.perf_counter()

    def __enter__(self) -> Sitting:
        self._interrupt.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._interrupt.__exit__(exc_type, exc, tb)

    @property
    def seconds(self) -> float:
        """Seconds since this sitting began."""
        return time.perf_counter() - self._start

    @property
    def elapsed(self) -> float:
        """Seconds of training in every sitting so far, this one included."""
        return self.already_s + self.seconds

    @property
    def out_of_time(self) -> bool:
        """Whether this sitting's ``--max-minutes`` is spent."""
        return self.budget_s is not None and self.seconds >= self.budget_s

    @property
    def interrupted(self) -> bool:
        """Whether Ctrl-C asked training to stop."""
        return self._interrupt.requested

    def should_stop(self) -> bool:
        """Whether training must stop after the unit in progress: its time is spent or Ctrl-C was pressed."""
        return self.out_of_time or self.interrupted
