"""Score CMA-ES candidates: rollouts behind one interface, in this process, in a local pool, or on Ray.

A *worker factory* is a picklable callable that builds a *rollout worker* once per worker (models loaded
and the emulator made once); the worker turns a :class:`RolloutTask` into a :class:`RolloutResult`.
:class:`PoolEvaluator` hands tasks to workers one at a time; a worker that dies or runs past
``timeout_s`` on one task is killed, replaced, its task re-run elsewhere and the event recorded in
``events`` (and reported through ``on_event``) — never a silent hang.
"""

from __future__ import annotations

import abc
import dataclasses
import multiprocessing as mp
import time
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

import numpy as np

from gamerl.errors import TrainingError
from gamerl.training.interrupt import ignore_interrupts


@dataclasses.dataclass(frozen=True)
class RolloutTask:
    """Play one rollout of candidate ``candidate`` (parameters ``params`` ``(D,)``) with ``seed``."""

    candidate: int
    params: np.ndarray
    seed: int
    level: str | None = None
    """Genesis save state to play (None = the env's default)"""


@dataclasses.dataclass(frozen=True)
class RolloutResult:
    """What one rollout scored."""

    candidate: int
    seed: int
    level: str | None
    total_reward: float
    steps: int


class RolloutWorker(Protocol):
    """Plays rollouts; built once per worker by a :data:`WorkerFactory`."""

    def __call__(self, task: RolloutTask) -> RolloutResult:
        """Play ``task`` and score it."""


WorkerFactory = Callable[[], RolloutWorker]
"""a picklable, argument-free callable that builds a :class:`RolloutWorker`"""


class EvaluationError(TrainingError):
    """A rollout raised, or kept failing on fresh workers."""


class Evaluator(abc.ABC):
    """Runs rollout tasks; results come back in task order.

    ``on_event`` hears every recovery message, ``on_result`` every result as it arrives (a progress bar).
    """

    def __init__(self) -> None:
        self.events: list[str] = []
        self.on_event: Callable[[str], None] = lambda message: None
        self.on_result: Callable[[RolloutResult], None] = lambda result: None

    def _report(self, message: str) -> None:
        self.events.append(message)
        self.on_event(message)

    @abc.abstractmethod
    def evaluate(self, tasks: Sequence[RolloutTask]) -> list[RolloutResult]:
        """Play every task; ``results[i]`` belongs to ``tasks[i]``."""

    def close(self) -> None:  # noqa: B027  (nothing to release by default)
        """Release workers (idempotent)."""

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InlineEvaluator(Evaluator):
    """Every task in this process, one after another (tests, the batched dream's baseline, ``--workers 0``)."""

    def __init__(self, factory: WorkerFactory) -> None:
        super().__init__()
        self.worker = factory()

    def evaluate(self, tasks: Sequence[RolloutTask]) -> list[RolloutResult]:
        """Run ``tasks`` here."""
        results = []
        for task in tasks:
            results.append(self.worker(task))
            self.on_result(results[-1])
        return results


@dataclasses.dataclass(frozen=True)
class _Failed:
    """A task's worker died or hung (``crash``) or the task itself raised (not ``crash``)."""

    message: str
    crash: bool


Outcome = RolloutResult | _Failed


class PoolEvaluator(Evaluator):
    """Dispatch tasks to ``workers`` long-lived workers, with crash and hang recovery.

    Subclasses say how a worker is started, given a task, waited on and stopped.
    """

    def __init__(self, workers: int, timeout_s: float, max_attempts: int = 3, startup_timeout_s: float = 300.0) -> None:
        super().__init__()
        if workers < 1:
            raise TrainingError(f"a worker pool needs >= 1 worker, got {workers}")
        self.workers, self.timeout_s, self.max_attempts = workers, timeout_s, max_attempts
        self.startup_timeout_s = startup_timeout_s
        for slot in range(workers):
            self._start(slot)
        for slot in range(workers):
            self._await_ready(slot)

    @abc.abstractmethod
    def _start(self, slot: int) -> None:
        """Launch worker ``slot`` (without waiting for it to build its rollout worker)."""

    @abc.abstractmethod
    def _await_ready(self, slot: int) -> None:
        """Block until worker ``slot`` has built its rollout worker; one-line error if it fails or takes longer
        than ``startup_timeout_s`` (task timeouts only count once a worker is ready)."""

    @abc.abstractmethod
    def _submit(self, slot: int, task: RolloutTask) -> None: ...

    @abc.abstractmethod
    def _wait(self, slots: list[int], timeout: float) -> dict[int, Outcome]:
        """Outcomes of the busy ``slots`` that finished within ``timeout`` seconds."""

    @abc.abstractmethod
    def _stop(self, slot: int) -> None: ...

    def _replace(self, slot: int) -> None:
        self._stop(slot)
        self._start(slot)
        self._await_ready(slot)

    def evaluate(self, tasks: Sequence[RolloutTask]) -> list[RolloutResult]:
        """Run ``tasks`` on the pool; a dead or hung worker is replaced and its task re-run."""
        pending = deque(range(len(tasks)))
        attempts = [0] * len(tasks)
        results: list[RolloutResult | None] = [None] * len(tasks)
        busy: dict[int, tuple[int, float]] = {}  # slot -> (task index, start time)
        while pending or busy:
            for slot in range(self.workers):
                if slot not in busy and pending:
                    index = pending.popleft()
                    attempts[index] += 1
                    self._submit(slot, tasks[index])
                    busy[slot] = (index, time.monotonic())
            deadline = min(start for _, start in busy.values()) + self.timeout_s
            outcomes = self._wait(list(busy), max(0.0, deadline - time.monotonic()))
            now = time.monotonic()
            for slot, (index, start) in list(busy.items()):
                outcome = outcomes.get(slot)
                if outcome is None and now - start < self.timeout_s:
                    continue
                del busy[slot]
                if isinstance(outcome, RolloutResult):
                    results[index] = outcome
                    self.on_result(outcome)
                    continue
                if outcome is not None and not outcome.crash:
                    raise EvaluationError(f"a rollout failed: {outcome.message}")
                reason = outcome.message if outcome is not None else f"no result after {self.timeout_s:g} s (hung)"
                task = tasks[index]
                self._report(
                    f"worker {slot}: {reason}; restarted it, re-running candidate {task.candidate} seed {task.seed}"
                )
                self._replace(slot)
                if attempts[index] >= self.max_attempts:
                    raise EvaluationError(
                        f"candidate {task.candidate} seed {task.seed} failed on {attempts[index]} workers ({reason})"
                    )
                pending.appendleft(index)
        return [r for r in results if r is not None]


_READY = "ready"


def _process_main(factory: WorkerFactory, conn: Connection) -> None:
    """A pool process: build the worker once, then answer tasks until told to stop (``None``)."""
    import torch

    ignore_interrupts()

    torch.set_num_threads(1)
    try:
        worker = factory()
    except Exception as err:  # noqa: BLE001  (reported to the parent as one line)
        conn.send(_Failed(f"{type(err).__name__}: {err}", crash=False))
        return
    conn.send(_READY)
    while True:
        task = conn.recv()
        if task is None:
            return
        try:
            conn.send(worker(task))
        except Exception as err:  # noqa: BLE001  (reported to the parent as one line)
            conn.send(_Failed(f"{type(err).__name__}: {err}", crash=False))


class LocalPoolEvaluator(PoolEvaluator):
    """One process per worker on this machine (spawned: no state shared with the parent), torch at 1 thread."""

    def __init__(
        self,
        factory: WorkerFactory,
        workers: int,
        timeout_s: float = 300.0,
        max_attempts: int = 3,
        startup_timeout_s: float = 300.0,
    ) -> None:
        self.factory = factory
        self.context = mp.get_context("spawn")
        self.processes: dict[int, Any] = {}
        self.conns: dict[int, Connection] = {}
        super().__init__(workers, timeout_s, max_attempts, startup_timeout_s)

    def _start(self, slot: int) -> None:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_process_main, args=(self.factory, child), daemon=True)
        process.start()
        child.close()
        self.processes[slot], self.conns[slot] = process, parent

    def _await_ready(self, slot: int) -> None:
        conn = self.conns[slot]
        try:
            message = conn.recv() if conn.poll(self.startup_timeout_s) else None
        except (EOFError, OSError):
            message = _Failed(f"process died (exit code {self.processes[slot].exitcode})", crash=True)
        if message != _READY:
            reason = (
                message.message if isinstance(message, _Failed) else f"not ready after {self.startup_timeout_s:g} s"
            )
            raise EvaluationError(f"rollout worker {slot} failed to start: {reason}")

    def _submit(self, slot: int, task: RolloutTask) -> None:
        try:
            self.conns[slot].send(task)
        except (BrokenPipeError, OSError):
            pass  # the process is gone: _wait reports it as a crash

    def _wait(self, slots: list[int], timeout: float) -> dict[int, Outcome]:
        by_handle: dict[Any, int] = {}
        for slot in slots:
            by_handle[self.conns[slot]] = slot
            by_handle[self.processes[slot].sentinel] = slot
        ready = wait(list(by_handle), timeout)
        outcomes: dict[int, Outcome] = {}
        for handle in ready:
            slot = by_handle[handle]
            if slot in outcomes:
                continue
            conn = self.conns[slot]
            try:
                if conn.poll():
                    outcomes[slot] = conn.recv()
                    continue
            except (EOFError, OSError):
                pass
            code = self.processes[slot].exitcode
            outcomes[slot] = _Failed(f"process died (exit code {code})", crash=True)
        return outcomes

    def _stop(self, slot: int) -> None:
        process = self.processes.pop(slot)
        if process.is_alive():
            process.kill()
        process.join(timeout=10)
        self.conns.pop(slot).close()

    def close(self) -> None:
        """Ask every worker to stop, then make sure it has."""
        for slot in list(self.processes):
            try:
                self.conns[slot].send(None)
            except (BrokenPipeError, OSError):
                pass
        for slot in list(self.processes):
            self.processes[slot].join(timeout=5)
            self._stop(slot)

    def pids(self) -> list[int]:
        """Worker process ids, by slot (tests kill one to check recovery)."""
        return [self.processes[slot].pid for slot in range(self.workers)]
