"""The Ray backend: the same :class:`~gamerl.evolution.evaluators.PoolEvaluator` dispatch, workers as Ray actors.

``address=None`` starts (or joins) a local Ray instance; ``address="ray://host:10001"`` or ``"auto"`` joins an
existing cluster, so the workers can live on other machines. Each actor builds its rollout worker once.
"""

from __future__ import annotations

from typing import Any

from gamerl.errors import DependencyError
from gamerl.evolution.evaluators import EvaluationError, Outcome, PoolEvaluator, RolloutTask, WorkerFactory, _Failed


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise DependencyError("the Ray backend needs ray: pip install 'gamerl[ray]' (or ray)") from None
    return ray


class _Actor:
    """A Ray actor holding one rollout worker."""

    def __init__(self, factory: WorkerFactory) -> None:
        import torch

        torch.set_num_threads(1)
        self.worker = factory()

    def run(self, task: RolloutTask) -> Outcome:
        try:
            return self.worker(task)
        except Exception as err:  # noqa: BLE001  (reported to the driver as one line)
            return _Failed(f"{type(err).__name__}: {err}", crash=False)

    def pid(self) -> int:
        import os

        return os.getpid()


class RayEvaluator(PoolEvaluator):
    """``workers`` Ray actors (1 CPU each) with crash and hang recovery."""

    def __init__(
        self,
        factory: WorkerFactory,
        workers: int,
        timeout_s: float = 300.0,
        address: str | None = None,
        max_attempts: int = 3,
        startup_timeout_s: float = 300.0,
    ) -> None:
        ray = _ray()
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None:
                options["num_cpus"] = workers
            try:
                ray.init(address=address, **options)
            except ConnectionError as err:
                raise DependencyError(
                    f"cannot reach a Ray cluster at --address {address} ({str(err).split('.')[0]}): start the "
                    "cluster first ('ray start --head'), or leave --address out for a local one"
                ) from None
        self.ray, self.factory = ray, factory
        self.actor_class = ray.remote(num_cpus=1, max_restarts=0)(_Actor)
        self.actors: dict[int, Any] = {}
        self.refs: dict[int, Any] = {}
        super().__init__(workers, timeout_s, max_attempts, startup_timeout_s)

    def _start(self, slot: int) -> None:
        self.actors[slot] = self.actor_class.remote(self.factory)

    def _await_ready(self, slot: int) -> None:
        try:
            self.ray.get(self.actors[slot].pid.remote(), timeout=self.startup_timeout_s)
        except self.ray.exceptions.RayError as err:
            raise EvaluationError(f"rollout actor {slot} failed to start ({type(err).__name__})") from None

    def _submit(self, slot: int, task: RolloutTask) -> None:
        self.refs[slot] = self.actors[slot].run.remote(task)

    def _wait(self, slots: list[int], timeout: float) -> dict[int, Outcome]:
        by_ref = {self.refs[slot]: slot for slot in slots}
        ready, _ = self.ray.wait(list(by_ref), num_returns=1, timeout=timeout)
        if ready:  # collect whatever else is done too
            ready, _ = self.ray.wait(list(by_ref), num_returns=len(by_ref), timeout=0)
        outcomes: dict[int, Outcome] = {}
        for ref in ready:
            slot = by_ref[ref]
            try:
                outcomes[slot] = self.ray.get(ref)
            except self.ray.exceptions.RayError as err:
                outcomes[slot] = _Failed(f"actor died ({type(err).__name__})", crash=True)
        return outcomes

    def _stop(self, slot: int) -> None:
        self.refs.pop(slot, None)
        self.ray.kill(self.actors.pop(slot), no_restart=True)

    def close(self) -> None:
        """Kill the actors (the Ray instance itself is left to its owner)."""
        for slot in list(self.actors):
            self._stop(slot)

    def pids(self) -> list[int]:
        """Actor process ids, by slot (tests kill one to check recovery)."""
        return [self.ray.get(self.actors[slot].pid.remote()) for slot in range(self.workers)]
