"""CMA-ES through pycma: it optimises, rank shaping, sep-CMA switch, exact resume from a checkpointed state."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from gamerl.evolution.cmaes import DIAGONAL_ABOVE, Evolution, centered_ranks


def sphere_fitness(population: np.ndarray) -> np.ndarray:
    """Higher is better: minus the squared distance to (1, 1, ...)."""
    return -np.sum((population - 1.0) ** 2, axis=1)


def test_ask_tell_improves_a_known_function() -> None:
    evolution = Evolution.start(np.zeros(10), sigma0=0.5, population=12, seed=3)
    first = sphere_fitness(evolution.ask()).mean()
    evolution.tell(sphere_fitness(evolution.population))
    for _ in range(60):
        evolution.tell(sphere_fitness(evolution.ask()))
    assert first < -5
    assert sphere_fitness(evolution.mean[None])[0] > -0.01
    assert evolution.generation == 61


def test_rank_shaping_still_optimises() -> None:
    evolution = Evolution.start(np.zeros(6), sigma0=0.5, population=10, seed=1, rank_shaping=True)
    for _ in range(60):
        evolution.tell(sphere_fitness(evolution.ask()))
    assert sphere_fitness(evolution.mean[None])[0] > -0.01


def test_centered_ranks() -> None:
    np.testing.assert_allclose(centered_ranks(np.array([10.0, -3.0, 7.0, 100.0])), [1 / 6, -0.5, -1 / 6, 0.5])
    assert centered_ranks(np.array([5.0])).tolist() == [0.0]
    shaped = centered_ranks(np.random.default_rng(0).normal(size=31))
    assert shaped.min() == -0.5 and shaped.max() == 0.5 and abs(shaped.mean()) < 1e-12


@pytest.mark.parametrize(
    ("dim", "diagonal", "expected"),
    [(10, "auto", False), (DIAGONAL_ABOVE + 1, "auto", True), (10, "on", True), (DIAGONAL_ABOVE + 1, "off", False)],
)
def test_diagonal_switch(dim: int, diagonal: str, expected: bool) -> None:
    evolution = Evolution.start(np.zeros(dim), 0.1, 8, seed=1, diagonal=diagonal)  # type: ignore[arg-type]
    assert evolution.diagonal is expected


def test_state_round_trip_resumes_identically() -> None:
    def run(evolution: Evolution, generations: int) -> list[np.ndarray]:
        populations = []
        for _ in range(generations):
            populations.append(evolution.ask())
            evolution.tell(sphere_fitness(populations[-1]))
        return populations

    evolution = Evolution.start(np.zeros(8), 0.3, 8, seed=7)
    run(evolution, 3)
    state = pickle.loads(pickle.dumps(evolution.state()))  # what a checkpoint file stores
    uninterrupted = run(evolution, 3)
    np.random.seed(12345)  # anything else drawing from NumPy's global RNG in between must not matter
    resumed = run(Evolution.from_state(state), 3)
    for a, b in zip(uninterrupted, resumed, strict=True):
        np.testing.assert_array_equal(a, b)


def test_mean_of_a_state_leaves_numpys_rng_alone() -> None:
    evolution = Evolution.start(np.zeros(5), 0.3, 6, seed=2)
    evolution.tell(sphere_fitness(evolution.ask()))
    state = pickle.loads(pickle.dumps(evolution.state()))
    np.random.seed(99)
    expected_draw = np.random.random()  # the next global draw after seeding 99
    np.random.seed(99)
    np.testing.assert_array_equal(Evolution.mean_of(state), evolution.mean)
    assert np.random.random() == expected_draw  # reading the mean did not restore the checkpoint's RNG
