"""The cross-entropy method on the post's pixel policy (the baseline the post recommends trying first).

Each generation samples one parameter vector per game from a diagonal Gaussian, plays one full game
with each (one batched forward pass per step over all candidates), keeps the best ``elite_frac``, and
refits the Gaussian's mean and standard deviation to the elites (plus a noise floor).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from gamerl.algorithms.pg.session import finish_run, make_env, open_run, sitting_of, write_checkpoint
from gamerl.config.base import config_to_dict
from gamerl.config.pg import PGConfig
from gamerl.models.policies import PixelPolicy
from gamerl.training.seeding import restore_rng_state, rng_state, seed_everything


def candidate_actions(candidates: torch.Tensor, obs: np.ndarray, hidden: int, rng: np.random.Generator) -> np.ndarray:
    """Sample each game's action from its own candidate policy.

    ``candidates``: ``(P, H*D + H)`` flat parameters laid out as ``PixelPolicy`` (w1 then w2);
    ``obs``: ``(P, D)`` int8 frames. Returns ``(P,)`` uint8 actions.
    """
    pop, dim = obs.shape
    w1 = candidates[:, : hidden * dim].view(pop, hidden, dim)
    w2 = candidates[:, hidden * dim :]
    x = torch.from_numpy(obs).float().unsqueeze(-1)
    with torch.no_grad():
        h = torch.relu(torch.bmm(w1, x).squeeze(-1))
        p_up = torch.sigmoid((h * w2).sum(-1)).numpy()
    return (rng.random(pop) < p_up).astype(np.uint8)


def refit(
    candidates: torch.Tensor, fitness: np.ndarray, elite_frac: float, extra_std: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and std ``(n_params,)`` of the top ``elite_frac`` candidates, with ``extra_std`` added to the std."""
    n_elite = max(1, int(round(elite_frac * len(fitness))))
    elite = candidates[torch.from_numpy(np.argsort(-fitness, kind="stable")[:n_elite].copy())]
    return elite.mean(0), elite.std(0, unbiased=False) + extra_std


def train_cem(config: PGConfig, resume: Path | None = None) -> Path:
    """Train (or resume) a CEM run; one generation = one game per candidate; return the run directory."""
    run_dir, config, checkpoint = open_run(config, resume)
    torch.set_num_threads(config.torch_threads)
    rng = seed_everything(config.seed)
    policy = PixelPolicy(hidden=config.hidden)
    mean = parameters_to_vector(policy.parameters()).detach()
    std = torch.full_like(mean, config.cem_init_std)
    counters = {"episodes": 0, "steps": 0, "updates": 0, "elapsed": 0.0}
    pop = config.num_envs

    env = make_env(config)
    try:
        env.reset()
        if checkpoint is not None:
            mean, std = checkpoint["cem"]["mean"], checkpoint["cem"]["std"]
            restore_rng_state(checkpoint["rng"], rng)
            env.set_state(checkpoint["env"])
            counters = dict(checkpoint["counters"])

        def save() -> None:
            counters["elapsed"] = sitting.elapsed
            vector_to_parameters(mean, policy.parameters())
            write_checkpoint(
                run_dir,
                {
                    "model": policy.state_dict(),
                    "cem": {"mean": mean, "std": std},
                    "rng": rng_state(rng),
                    "env": env.get_state(),
                    "counters": dict(counters),
                    "config": config_to_dict(config),
                },
            )

        with sitting_of(run_dir, config, counters, "generation", checkpoint is not None) as (sitting, logger, progress):
            while counters["episodes"] < config.episodes and not sitting.should_stop():
                # 1. sample a generation and play one full game with each candidate
                noise = torch.from_numpy(rng.standard_normal((pop, mean.numel()), dtype=np.float32))
                candidates = mean + std * noise
                obs = env.reset()
                fitness = np.zeros(pop)
                alive = np.ones(pop, dtype=bool)
                start_time, start_steps = sitting.elapsed, counters["steps"]
                while alive.any():
                    obs, rewards, dones = env.step(candidate_actions(candidates, obs, config.hidden, rng))
                    fitness += rewards * alive
                    counters["steps"] += int(alive.sum())
                    alive &= ~dones
                counters["episodes"] += pop
                counters["updates"] += 1

                # 2. refit the distribution to the elites, log, checkpoint
                mean, std = refit(candidates, fitness, config.cem_elite_frac, config.cem_extra_std)
                sps = (counters["steps"] - start_steps) / max(sitting.elapsed - start_time, 1e-9)
                logger.log(
                    counters["steps"],
                    {
                        "rollout/episode_reward": float(fitness.mean()),
                        "rollout/running_reward": float(fitness.mean()),
                        "rollout/best_reward": float(fitness.max()),
                        "rollout/worst_reward": float(fitness.min()),
                        "train/param_std": float(std.mean()),
                        "charts/SPS": sps,
                        "charts/episodes": counters["episodes"],
                        "charts/updates": counters["updates"],
                        "charts/elapsed_s": sitting.elapsed,
                    },
                )
                progress.update(counters["episodes"], counters["steps"], mean=fitness.mean(), best=fitness.max())
                if counters["updates"] % config.checkpoint_every == 0:
                    save()
            save()
    finally:
        env.close()
    vector_to_parameters(mean, policy.parameters())
    finish_run(run_dir, policy)
    return run_dir
