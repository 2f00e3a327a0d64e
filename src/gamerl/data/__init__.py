"""Data: rollout storage and pure functions over trajectories (returns, advantages)."""
