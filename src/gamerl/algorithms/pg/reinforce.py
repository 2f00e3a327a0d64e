"""REINFORCE on Pong from pixels, as in Karpathy's post, with every game of a batch played in parallel.

Loop: play N games with one batched forward pass per step → when ``batch_episodes`` games have ended,
compute discounted (per-point) returns, standardise them, and take one RMSProp step on
``-sum_t A_t log pi(a_t | x_t)`` → log, checkpoint, repeat.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gamerl.algorithms.pg.episodes import Episode, EpisodeBuffer, SparseFrame, sparse_frames, split_nonzeros
from gamerl.algorithms.pg.session import finish_run, make_env, open_run, sitting_of, write_checkpoint
from gamerl.config.base import config_to_dict
from gamerl.config.pg import PGConfig
from gamerl.data.returns import discounted_returns, standardize
from gamerl.errors import TrainingError
from gamerl.models.policies import ActingWeights, PixelPolicy, p_up_from_nonzeros
from gamerl.training.seeding import restore_rng_state, rng_state, seed_everything


def episode_advantages(
    episodes: list[Episode], gamma: float, reset_on_point: bool, standardize_over: str
) -> np.ndarray:
    """Advantages of every step of ``episodes``, concatenated: ``(sum T,)`` float32.

    Discounted returns (reset at each point if ``reset_on_point``), standardised over the whole batch
    (``"batch"``) or within each episode (``"episode"``, the post's code).
    """
    returns = [discounted_returns(e.rewards, gamma, reset_on_point) for e in episodes]
    if standardize_over == "episode":
        return np.concatenate([standardize(r) for r in returns]).astype(np.float32)
    return standardize(np.concatenate(returns)).astype(np.float32)


def reinforce_loss(logits: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """``-sum_t A_t log pi(a_t | x_t)`` for a Bernoulli policy.

    ``logits``, ``actions`` (0/1 float) and ``advantages``: ``(T,)``. Its gradient with respect to the
    logits is ``-(y - p) * A``, the post's ``epdlogp``, summed (not averaged) over the batch as the post does.
    """
    log_prob = -F.binary_cross_entropy_with_logits(logits, actions, reduction="none")
    return -(advantages * log_prob).sum()


def sample_actions(
    weights: ActingWeights, frames: list[SparseFrame], rng: np.random.Generator, greedy: bool = False
) -> np.ndarray:
    """One forward pass over N sparse difference frames → ``(N,)`` uint8 actions (1 = UP)."""
    p_up = p_up_from_nonzeros(weights, frames)
    if greedy:
        return (p_up > 0.5).astype(np.uint8)
    return (rng.random(len(p_up)) < p_up).astype(np.uint8)


def train_reinforce(config: PGConfig, resume: Path | None = None) -> Path:
    """Train (or resume) a REINFORCE run; return its run directory."""
    run_dir, config, checkpoint = open_run(config, resume)
    torch.set_num_threads(config.torch_threads)
    rng = seed_everything(config.seed)
    policy = PixelPolicy(hidden=config.hidden)
    if config.optimizer == "rmsprop":
        optimizer: torch.optim.Optimizer = torch.optim.RMSprop(
            policy.parameters(), lr=config.learning_rate, alpha=config.rmsprop_decay, eps=1e-5
        )
    else:
        optimizer = torch.optim.Adam(policy.parameters(), lr=config.learning_rate)
    buffers = [EpisodeBuffer() for _ in range(config.num_envs)]
    finished: list[Episode] = []
    counters = {"episodes": 0, "steps": 0, "updates": 0, "elapsed": 0.0}
    running_reward: float | None = None

    env = make_env(config)
    try:
        obs = env.reset()
        if checkpoint is not None:
            policy.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
            restore_rng_state(checkpoint["rng"], rng)
            env.set_state(checkpoint["env"])
            for buffer, state in zip(buffers, checkpoint["buffers"], strict=True):
                buffer.load(state)
            finished = [Episode(**e) for e in checkpoint["finished"]]
            counters = dict(checkpoint["counters"])
            running_reward = checkpoint["running_reward"]
        weights = policy.acting_weights()

        def save() -> None:
            counters["elapsed"] = sitting.elapsed
            write_checkpoint(
                run_dir,
                {
                    "model": policy.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "rng": rng_state(rng),
                    "env": env.get_state(),
                    "buffers": [b.state() for b in buffers],
                    "finished": [dataclasses.asdict(e) for e in finished],
                    "counters": dict(counters),
                    "running_reward": running_reward,
                    "config": config_to_dict(config),
                },
            )

        with sitting_of(run_dir, config, counters, "step", checkpoint is not None) as (sitting, logger, progress):
            steps_at_log, time_at_log = counters["steps"], sitting.elapsed
            while counters["episodes"] < config.episodes and not sitting.should_stop():
                # 1. play one step of every game with one forward pass over all of them
                frames = split_nonzeros(obs)
                actions = sample_actions(weights, frames, rng)
                obs, rewards, dones = env.step(actions)
                counters["steps"] += config.num_envs
                for i in range(config.num_envs):
                    buffers[i].append(frames[i], int(actions[i]), float(rewards[i]))
                    if dones[i]:
                        episode = buffers[i].finish()
                        finished.append(episode)
                        counters["episodes"] += 1
                        reward = episode.total_reward
                        running_reward = reward if running_reward is None else 0.99 * running_reward + 0.01 * reward
                if len(finished) < config.batch_episodes:
                    continue

                # 2. returns → advantages → one policy-gradient step over the whole batch
                advantages = episode_advantages(finished, config.gamma, config.reset_on_point, config.standardize)
                logits = policy(sparse_frames(finished))
                actions_t = torch.from_numpy(np.concatenate([e.actions for e in finished])).float()
                loss = reinforce_loss(logits, actions_t, torch.from_numpy(advantages))
                if not torch.isfinite(loss):
                    raise TrainingError(
                        f"loss became {loss.item()} at update {counters['updates']}: lower --learning-rate and resume"
                    )
                optimizer.zero_grad()
                loss.backward()
                grad_norm = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in policy.parameters()))
                optimizer.step()
                weights = policy.acting_weights()
                counters["updates"] += 1

                # 3. log and checkpoint
                with torch.no_grad():
                    p_up = torch.sigmoid(logits)
                    entropy = float(F.binary_cross_entropy(p_up, p_up, reduction="mean"))
                now = sitting.elapsed
                sps = (counters["steps"] - steps_at_log) / max(now - time_at_log, 1e-9)
                steps_at_log, time_at_log = counters["steps"], now
                batch_reward = float(np.mean([e.total_reward for e in finished]))
                logger.log(
                    counters["steps"],
                    {
                        "rollout/episode_reward": batch_reward,
                        "rollout/running_reward": float(running_reward),
                        "rollout/episode_length": float(np.mean([len(e) for e in finished])),
                        "train/loss": loss.item() / len(advantages),
                        "train/entropy": entropy,
                        "train/grad_norm": grad_norm,
                        "train/p_up": float(p_up.mean()),
                        "charts/SPS": sps,
                        "charts/episodes": counters["episodes"],
                        "charts/updates": counters["updates"],
                        "charts/elapsed_s": now,
                    },
                )
                progress.update(counters["episodes"], counters["steps"], reward=batch_reward, running=running_reward)
                finished.clear()
                if counters["updates"] % config.checkpoint_every == 0:
                    save()
            save()
    finally:
        env.close()
    finish_run(run_dir, policy)
    return run_dir
