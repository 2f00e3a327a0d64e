"""A rich progress bar showing episodes, running reward, steps/s and ETA."""

from __future__ import annotations

import time
from types import TracebackType

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class TrainingProgress:
    """Progress over a budget (episodes or generations) with live training statistics.

    Disabled (``enabled=False``) it prints nothing, which keeps tests and logs quiet.
    """

    def __init__(
        self,
        total: int,
        unit: str = "episodes",
        enabled: bool = True,
        completed: int = 0,
        time_budget_s: float | None = None,
        label: str = "train",
        steps: int = 0,
    ) -> None:
        """``time_budget_s``: a wall-clock budget that may end training first; its time left is shown.

        ``label``: the word before the bar, what the command is doing; ``steps``: the agent steps done before
        the bar starts (a resumed run's), left out of its steps/s."""
        self.enabled = enabled
        self.time_budget_s = time_budget_s
        self._start = time.perf_counter()
        self._steps_at_start = steps
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(unit),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            disable=not enabled,
        )
        self._task = self._progress.add_task(label, total=total, completed=completed, stats="")

    def update(self, completed: int, steps: int, **stats: float) -> None:
        """Move the bar to ``completed`` units; ``steps`` (agent steps so far) gives steps/s."""
        self._progress.update(self._task, completed=completed, stats=self.describe(steps, **stats))

    def describe(self, steps: int, **stats: float) -> str:
        """The text after the bar: ``stats``, steps/s since the bar started and the time budget left."""
        elapsed = max(time.perf_counter() - self._start, 1e-9)
        sps = (steps - self._steps_at_start) / elapsed
        text = " ".join(f"{k} {v:.2f}" for k, v in stats.items()) + f" | {sps:,.0f} steps/s"
        if self.time_budget_s is not None:
            left = max(self.time_budget_s - elapsed, 0.0)
            text += f" | time budget left {int(left // 60)}:{int(left % 60):02d}"
        return text

    def __enter__(self) -> TrainingProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()
