"""Evaluate and watch a PPO run: win rate and game score on Derk, mean return elsewhere; videos."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from gamerl.algorithms.ppo.agent_env import AgentEnv, EpisodeStats
from gamerl.algorithms.ppo.networks import ActorCritic
from gamerl.algorithms.ppo.session import SYSTEM, load_model, make_agent_env, model_from_checkpoint, weights_file
from gamerl.config.ppo import DERK_ENV_ID, PPOConfig
from gamerl.envs.derk import DRAW_KINDS, RANDOM_ITEMS, resolve_webgl
from gamerl.errors import ConfigError
from gamerl.evaluation.results import save_result, weights_digest
from gamerl.evaluation.videofile import video_path, write_video
from gamerl.training.checkpoints import load_checkpoint
from gamerl.training.progress import TrainingProgress


def act(model: ActorCritic, obs: np.ndarray, greedy: bool) -> np.ndarray:
    """``(N, obs_dim)`` → ``(N, H)`` head actions, sampled or most likely."""
    with torch.no_grad():
        dist = model.dist(torch.from_numpy(obs))
        return (dist.mode() if greedy else dist.sample()).numpy()


def play_episodes(
    model: ActorCritic, env: AgentEnv, episodes: int, greedy: bool, progress: TrainingProgress | None = None
) -> list[EpisodeStats]:
    """Step ``env`` until ``episodes`` episodes (Derk: arena games) have ended; their statistics.

    ``progress``: a bar moved to the games ended so far, every step (its steps/s show a Derk evaluation,
    whose games all end at once, is alive)."""
    finished: list[EpisodeStats] = []
    model = model.for_acting()  # the same outputs, its encoder weights cast once
    obs = env.reset()
    steps = 0
    while len(finished) < episodes:
        result = env.step(act(model, obs, greedy))
        finished += result.episodes
        obs = result.obs
        steps += env.num_agents
        if progress is not None:
            progress.update(min(len(finished), episodes), steps)
    return finished[:episodes]


def summarize_games(games: list[EpisodeStats], derk: bool) -> dict[str, float]:
    """Means over games: ``mean_return``/``std_return`` always; Derk adds win, tie, score, kill, death rates,
    where the team stayed (``mean_home_half``, per derkling ``mean_home_half_slot0``–``2``,
    ``mean_statue_distance``), the share of games each team's statue was destroyed (``statue_lost_rate``,
    ``opponent_statue_lost_rate``) and the share of steps it stood (``mean_statue_standing``,
    ``mean_opponent_statue_standing``), and the item draw's part:
    ``unarmed_share`` (games the team drew no item that does damage), ``win_rate_armed`` (the other
    games), ``win_rate_<kind>`` per :func:`~gamerl.envs.derk.draw_kind`; a rate only where such games
    were played (no NaN)."""
    returns = [float(g["return"]) for g in games]
    summary = {
        "episodes": float(len(games)),
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
    }
    if derk:
        for out, key in (
            ("win_rate", "win"),
            ("tie_rate", "tie"),
            ("mean_score", "score"),
            ("mean_opponent_score", "opponent_score"),
            ("mean_kills", "kills"),
            ("mean_deaths", "deaths"),
            ("mean_home_half", "home_half"),
            *((f"mean_home_half_slot{s}", f"home_half_slot{s}") for s in range(3)),
            ("mean_statue_distance", "statue_distance"),
            ("statue_lost_rate", "statue_lost"),
            ("opponent_statue_lost_rate", "opponent_statue_lost"),
            ("mean_statue_standing", "statue_standing"),
            ("mean_opponent_statue_standing", "opponent_statue_standing"),
        ):
            summary[out] = float(np.mean([float(g[key]) for g in games]))
        summary["unarmed_share"] = float(np.mean([g["draw"] == "unarmed" for g in games]))
        for label, kinds in (("armed", DRAW_KINDS[:-1]), *((kind, (kind,)) for kind in DRAW_KINDS)):
            wins = [float(g["win"]) for g in games if g["draw"] in kinds]
            if wins:
                summary[f"win_rate_{label}"] = float(np.mean(wins))
    return summary


def derk_match(
    config: PPOConfig,
    opponent: Literal["random", "checkpoint"] = "random",
    opponent_checkpoint: Path | None = None,
    team_items: str | None = None,
    opponent_items: str | None = None,
    derk_webgl: str | None = None,
) -> PPOConfig:
    """A Derk run's ``config`` set to play ``opponent`` (a random team, or the model in ``opponent_checkpoint``),
    with ``team_items``, ``opponent_items`` and ``derk_webgl`` in place of the run's where given (as
    ``PPOConfig.team_items`` and ``opponent_items``: a fixed loadout, or ``'random'`` for the game's draw;
    ``PPOConfig.derk_webgl``: where the game's WebGL runs)."""
    changes: dict[str, object] = {"opponent": opponent, "opponent_checkpoint": opponent_checkpoint}
    given = {"team_items": team_items, "opponent_items": opponent_items, "derk_webgl": derk_webgl}
    changes |= {name: value for name, value in given.items() if value is not None}
    return dataclasses.replace(config, **changes)


def evaluate_ppo(
    run_dir: Path,
    episodes: int = 10,
    seed: int = 12345,
    greedy: bool = False,
    opponent: Literal["random", "checkpoint"] = "random",
    opponent_checkpoint: Path | None = None,
    num_envs: int | None = None,
    reward: str = "score",
    update: int | None = None,
    team_items: str | None = None,
    opponent_items: str | None = None,
    derk_webgl: str | None = None,
    progress: bool = True,
) -> tuple[dict[str, float], Path]:
    """Play ``episodes`` games with the run's last weights (or those kept after ``update``); write a summary and
    return it with the file written: ``eval/results_<label>_<greedy|sampled>_update<N>_seed<seed>.json``
    (``…_2.json`` and on when that file holds an evaluation with other settings, such as another checkpoint
    opponent: see :func:`~gamerl.evaluation.results.save_result`).

    Derk: games against a random team or a given checkpoint, counted with the game's own score
    (13 per statue destroyed, 4 per kill: the ``score`` reward preset), whatever reward the team
    was trained with; summary has ``win_rate``, ``tie_rate``, ``mean_score``, ``mean_opponent_score``.
    Another ``reward`` (preset or TOML) measures a behaviour instead, e.g. ``statueDamageTaken = 1``
    makes ``mean_return`` the statue damage taken per derkling and game. ``team_items``,
    ``opponent_items`` and ``derk_webgl`` replace the run's (see :func:`derk_match`); the results record
    the WebGL backend the games ran on. ``progress`` shows a bar.
    All envs: ``mean_return`` and ``std_return`` (Derk: per home derkling and game).
    """
    if episodes < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}: pass --episodes 10")
    checkpoint = load_checkpoint(weights_file(run_dir, update), SYSTEM)
    model, config = model_from_checkpoint(checkpoint)
    if update is None:  # named by its update, so evaluating again after more training keeps this result
        update = checkpoint["counters"]["updates"]
    torch.manual_seed(seed)
    num_envs = min(config.num_envs, episodes) if num_envs is None else num_envs
    config = dataclasses.replace(config, seed=seed, num_envs=num_envs)
    if config.env_id == DERK_ENV_ID:
        config = derk_match(config, opponent, opponent_checkpoint, team_items, opponent_items, derk_webgl)
        config = dataclasses.replace(config, reward=reward)
    env = make_agent_env(config, run_dir)
    try:
        with TrainingProgress(episodes, "games", progress, label="evaluate") as bar:
            games = play_episodes(model, env, episodes, greedy, bar)
    finally:
        env.close()
    summary = summarize_games(games, derk=config.env_id == DERK_ENV_ID)
    label = "env"
    if config.env_id == DERK_ENV_ID:
        label = f"{opponent}_{Path(reward).stem}"
        label += items_label(config.team_items, config.opponent_items)
    name = f"results_{label}_{'greedy' if greedy else 'sampled'}_update{update}_seed{seed}.json"
    items: dict[str, object] = {"team_items": config.team_items, "opponent_items": config.opponent_items}
    settings: dict[str, object] = {"weights": weights_digest(model.state_dict().values()), "update": update}
    settings |= {"episodes": episodes, "seed": seed, "greedy": greedy, "num_envs": num_envs}
    if config.env_id == DERK_ENV_ID:
        checkpoint_file = None if opponent_checkpoint is None else Path(opponent_checkpoint).resolve()
        items["webgl"] = resolve_webgl(config.derk_webgl)
        settings |= {"opponent": opponent, "opponent_checkpoint": checkpoint_file, "reward": reward, **items}
    record = {**summary, "games": games, "greedy": greedy, **items}
    return summary, save_result(Path(run_dir) / "eval" / name, record, settings)


def items_label(team_items: str | None, opponent_items: str | None) -> str:
    """The part of a Derk results file's name that tells the items: ``''`` for the game's random draw,
    ``'_fixed_items'`` for one loadout for both teams, plus ``'_opponent_<random|fixed>_items'`` when the
    away team's differ."""
    home_random = team_items in (None, RANDOM_ITEMS)
    if opponent_items is None or opponent_items == team_items or (home_random and opponent_items == RANDOM_ITEMS):
        return "" if home_random else "_fixed_items"
    away = "random" if opponent_items == RANDOM_ITEMS else "fixed"
    return ("" if home_random else "_fixed_items") + f"_opponent_{away}_items"


def agent_view(obs: np.ndarray, obs_shape: tuple[int, ...], scale: int = 3) -> np.ndarray:
    """The newest of the stacked frames an Atari agent sees, as an upscaled RGB image ``(3·84, 3·84, 3)``."""
    frame = obs.reshape(obs_shape)[-1].astype(np.uint8)
    return np.repeat(np.repeat(frame, scale, 0), scale, 1)[..., None].repeat(3, -1)


def _record_rows(
    env: AgentEnv, model: ActorCritic, frame: Callable[[np.ndarray], np.ndarray], max_steps: int, greedy: bool
) -> list[np.ndarray]:
    """Frames of the first game of ``env`` until it ends or ``max_steps``; closes ``env``."""
    frames = []
    model = model.for_acting()
    try:
        obs = env.reset()
        for _ in range(max_steps):
            frames.append(frame(obs[0]))
            result = env.step(act(model, obs, greedy))
            obs = result.obs
            if result.dones[0]:
                break
    finally:
        env.close()
    return frames


def _record_gym(env_id: str, model: ActorCritic, max_steps: int, seed: int, greedy: bool) -> list[np.ndarray]:
    """Frames of one episode of a Gymnasium env rendered as RGB."""
    import gymnasium as gym

    from gamerl.algorithms.ppo.heads import env_values

    env = gym.make(env_id, render_mode="rgb_array")
    frames = []
    try:
        o, _ = env.reset(seed=seed)
        for _ in range(max_steps):
            frames.append(env.render())
            values = env_values(act(model, np.asarray(o, np.float32).reshape(1, -1), greedy), model.heads)[0]
            action = int(values[0]) if isinstance(env.action_space, gym.spaces.Discrete) else values
            o, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                break
    finally:
        env.close()
    return frames


def record_ppo(
    run_dir: Path,
    out: Path | None = None,
    max_steps: int = 150,
    seed: int = 0,
    fps: int = 10,
    greedy: bool = False,
    update: int | None = None,
    opponent: Literal["random", "checkpoint"] = "random",
    opponent_checkpoint: Path | None = None,
    team_items: str | None = None,
    opponent_items: str | None = None,
    derk_webgl: str | None = None,
) -> Path:
    """Record one game of the run's agent (last weights, or those kept after ``update``) as GIF or mp4.

    Derk: one arena as the game's page draws it, against ``opponent`` with the items and WebGL backend as
    :func:`derk_match` sets them; Atari: the frames the agent sees; others: ``render()``.
    """
    out = video_path(run_dir, out, max_steps, fps, seed)
    model, config = load_model(weights_file(run_dir, update))
    torch.manual_seed(seed)
    if config.env_id == DERK_ENV_ID:
        from gamerl.algorithms.ppo.derk_agents import make_derk_agents

        config = derk_match(config, opponent, opponent_checkpoint, team_items, opponent_items, derk_webgl)
        config = dataclasses.replace(config, num_envs=1, seed=seed)
        derk = make_derk_agents(config, Path(run_dir), seed, turbo=False)
        frames = _record_rows(derk, model, lambda _: derk.batch.frame(), max_steps, greedy)
    elif config.env_id.startswith("ALE/"):
        from gamerl.algorithms.ppo.agent_env import AtariAgents

        atari = AtariAgents(config.env_id, 1, seed)
        frames = _record_rows(atari, model, lambda obs: agent_view(obs, model.obs_shape), max_steps, greedy)
    else:
        frames = _record_gym(config.env_id, model, max_steps, seed, greedy)
    return write_video(frames, out, fps)
