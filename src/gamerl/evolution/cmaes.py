"""CMA-ES through pycma's ask/tell, with the seed's rank shaping and an automatic diagonal (sep-CMA) switch.

pycma minimises, so :class:`Evolution` negates fitness (higher = better everywhere else in gamerl).
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any, Literal

import numpy as np

from gamerl.errors import CheckpointError, DependencyError

DIAGONAL_ABOVE = 1000
"""above this many parameters ``diagonal="auto"`` uses sep-CMA: full covariance at the seed's 8,896
parameters costs 1.9 GiB and ≈6.5 s per generation on a 2-core machine"""


def centered_ranks(fitness: np.ndarray) -> np.ndarray:
    """The seed's rank shaping: fitness ``(P,)`` → ranks scaled to [−0.5, 0.5] (ties broken by order)."""
    n = len(fitness)
    if n == 1:
        return np.zeros(1)
    ranks = np.empty(n)
    ranks[np.argsort(fitness, kind="stable")] = np.arange(n)
    return ranks / (n - 1) - 0.5


def _cma() -> Any:
    try:
        import cma
    except ImportError:
        raise DependencyError("CMA-ES needs pycma: pip install 'gamerl[worldmodels]' (or cma)") from None
    return cma


@dataclasses.dataclass
class Evolution:
    """One CMA-ES search: ``ask()`` a population ``(P, D)``, ``tell(fitness)`` with higher = better."""

    es: Any
    diagonal: bool
    rank_shaping: bool

    @classmethod
    def start(
        cls,
        x0: np.ndarray,
        sigma0: float,
        population: int,
        seed: int,
        diagonal: Literal["auto", "on", "off"] = "auto",
        rank_shaping: bool = False,
    ) -> Evolution:
        """A fresh search around ``x0`` with step size ``sigma0``; sep-CMA when ``diagonal`` says so."""
        use_diagonal = diagonal == "on" or (diagonal == "auto" and len(x0) > DIAGONAL_ABOVE)
        options = {"popsize": population, "seed": seed, "verbose": -9, "CMA_diagonal": use_diagonal}
        return cls(_cma().CMAEvolutionStrategy(x0, sigma0, options), use_diagonal, rank_shaping)

    def ask(self) -> np.ndarray:
        """The next population ``(P, D)`` float32."""
        self.population = np.asarray(self.es.ask())
        return self.population.astype(np.float32)

    def tell(self, fitness: np.ndarray) -> None:
        """Report the fitness ``(P,)`` of the last ``ask()`` (higher is better)."""
        shaped = centered_ranks(fitness) if self.rank_shaping else np.asarray(fitness, float)
        self.es.tell(list(self.population), list(-shaped))

    @property
    def mean(self) -> np.ndarray:
        """The distribution mean ``(D,)``."""
        return np.asarray(self.es.mean, np.float32)

    @property
    def generation(self) -> int:
        """Generations told so far."""
        return int(self.es.countiter)

    def state(self) -> dict[str, Any]:
        """A plain dict for a checkpoint: pycma's own ``pickle_dumps`` and NumPy's global RNG, which pycma samples
        from."""
        return {
            "es": self.es.pickle_dumps(),
            "numpy_random": np.random.get_state(),
            "diagonal": self.diagonal,
            "rank_shaping": self.rank_shaping,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Evolution:
        """Rebuild the search from :meth:`state`; it continues exactly (same RNG stream)."""
        es = _unpickle(state)
        np.random.set_state(state["numpy_random"])
        return cls(es, state["diagonal"], state["rank_shaping"])

    @staticmethod
    def mean_of(state: dict[str, Any]) -> np.ndarray:
        """The distribution mean ``(D,)`` held in :meth:`state`, read without touching NumPy's global RNG."""
        return np.asarray(_unpickle(state).mean, np.float32)


def _unpickle(state: dict[str, Any]) -> Any:
    try:
        return pickle.loads(state["es"])
    except (pickle.UnpicklingError, KeyError, EOFError) as err:
        raise CheckpointError(f"the CMA-ES state in the checkpoint is unreadable ({type(err).__name__})") from None
