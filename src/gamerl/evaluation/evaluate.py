"""Evaluate a trained pixel policy: N full games, mean ± std, per-episode scores saved as JSON."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from gamerl.algorithms.pg.episodes import split_nonzeros
from gamerl.algorithms.pg.reinforce import sample_actions
from gamerl.algorithms.pg.session import load_policy, make_env
from gamerl.errors import ConfigError
from gamerl.evaluation.results import save_result, weights_digest
from gamerl.training.progress import TrainingProgress


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """Scores of an evaluation, and the results file they were written to."""

    episode_rewards: list[float]
    episode_lengths: list[int]
    path: Path

    @property
    def mean(self) -> float:
        """Mean episode reward."""
        return float(np.mean(self.episode_rewards))

    @property
    def std(self) -> float:
        """Standard deviation of the episode rewards."""
        return float(np.std(self.episode_rewards))


def evaluate_run(
    run_dir: Path,
    episodes: int = 10,
    seed: int = 12345,
    greedy: bool = False,
    num_envs: int | None = None,
    repeat_action_probability: float | None = None,
    progress: bool = True,
) -> EvalResult:
    """Play ``episodes`` full games with the run's policy and write ``eval/results_seed<seed>.json`` (``…_2.json``
    and on when that file holds an evaluation of other weights or settings: see
    :func:`~gamerl.evaluation.results.save_result`).

    Games run in parallel; each game slot plays a fixed quota of episodes so short games are not
    over-represented. ``greedy`` takes the most likely action instead of sampling;
    ``repeat_action_probability`` overrides the run's sticky-action setting (a robustness check);
    ``progress`` shows a bar.
    """
    if episodes < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}: pass --episodes 10")
    policy, config = load_policy(run_dir)
    weights = policy.acting_weights()
    sticky = config.repeat_action_probability if repeat_action_probability is None else repeat_action_probability
    config = dataclasses.replace(config, seed=seed, repeat_action_probability=sticky)
    if num_envs is not None and num_envs < 1:
        raise ConfigError(f"num_envs must be >= 1, got {num_envs}: leave it out for the run's own")
    slots = min(episodes, config.num_envs if num_envs is None else num_envs)
    quota = np.full(slots, episodes // slots)
    quota[: episodes % slots] += 1
    rng = np.random.default_rng(seed)
    rewards: list[float] = []
    lengths: list[int] = []
    current_reward = np.zeros(slots)
    current_length = np.zeros(slots, dtype=int)
    bar = TrainingProgress(episodes, "episodes", progress, label="evaluate")
    with make_env(config, num_envs=slots) as env, bar:
        obs, steps = env.reset(), 0
        while (quota > 0).any():
            obs, step_rewards, dones = env.step(sample_actions(weights, split_nonzeros(obs), rng, greedy))
            current_reward += step_rewards
            current_length += 1
            for i in np.flatnonzero(dones):
                if quota[i] > 0:
                    rewards.append(float(current_reward[i]))
                    lengths.append(int(current_length[i]))
                    quota[i] -= 1
                current_reward[i], current_length[i] = 0.0, 0
            steps += slots
            bar.update(len(rewards), steps)
    settings = {"weights": weights_digest(policy.state_dict().values()), "episodes": episodes, "seed": seed}
    settings |= {"greedy": greedy, "repeat_action_probability": sticky, "num_envs": slots}
    record = {**settings, "mean": float(np.mean(rewards)), "std": float(np.std(rewards)), "episode_rewards": rewards}
    path = save_result(
        Path(run_dir) / "eval" / f"results_seed{seed}.json", {**record, "episode_lengths": lengths}, settings
    )
    return EvalResult(rewards, lengths, path)
