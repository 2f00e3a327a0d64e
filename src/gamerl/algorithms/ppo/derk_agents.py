"""Derk's home team as PPO's agent rows; the away team is played by an :class:`Opponent`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gamerl.algorithms.ppo.agent_env import EpisodeStats, StepResult
from gamerl.algorithms.ppo.heads import env_values, heads_for_space
from gamerl.algorithms.ppo.opponents import CheckpointPool, FrozenPolicy, Opponent, RandomTeam, opponent_rng
from gamerl.algorithms.ppo.session import load_model
from gamerl.config.ppo import DERK_ENV_ID, PPOConfig
from gamerl.envs.derk import (
    FRIEND_STATUE_DISTANCE,
    HEAD_NAMES,
    LOST_STATUE_DISTANCE,
    OBS_SIZE,
    POSITION_UP_DOWN,
    DerkBatch,
    DerkBrowserError,
    DerkSettings,
    action_space,
    armed_derklings,
    draw_kind,
    team_loadout,
)
from gamerl.errors import CheckpointError


class DerkAgents:
    """The 3 home derklings of every arena as ``3 * n_arenas`` agent rows (shared policy).

    At the end of each game every arena reports ``return`` (mean reward per home derkling), ``win``
    (home team reward > away team reward, gym-derk's definition), ``score``/``opponent_score`` (team
    rewards), ``kills``/``deaths`` (derklings whose hitpoints reached 0), the team stats, and where the
    home derklings spent the game, read from their observations every step: ``home_half`` (share of
    steps in their own half; ``home_half_slot0``–``2`` per derkling, whose items ``--team-items`` may
    fix) and ``statue_distance`` (mean distance to their statue while it stands, 1.0 beyond sensor range);
    ``statue_lost``/``opponent_statue_lost`` (1.0 if the team's own statue was destroyed in the game) and
    ``statue_standing``/``opponent_statue_standing`` (share of the game's steps it stood), read from the same
    sense. The game's own ``timeSpentHome*`` rewards are paid only every few seconds of game time.
    Each game also reports the items both teams drew, ``items``/``opponent_items`` as ``'arms,misc,tail;…'``
    (replayable with ``--team-items``), ``armed``/``opponent_armed``, how many derklings of each team
    carry an item that does damage, and ``draw``, the home team's :func:`~gamerl.envs.derk.draw_kind`.
    """

    def __init__(self, batch: DerkBatch, opponent: Opponent, continuous: str = "binned", bins: int = 9) -> None:
        self.batch, self.opponent = batch, opponent
        self.n_arenas = batch.n_arenas
        self.num_agents = 3 * self.n_arenas
        self.obs_shape = (OBS_SIZE,)
        self.heads = heads_for_space(action_space(), continuous, bins, HEAD_NAMES)  # type: ignore[arg-type]
        self._obs = np.zeros((2 * self.num_agents, OBS_SIZE), np.float32)
        self._returns = np.zeros(2 * self.num_agents)
        self._dead = np.zeros(2 * self.num_agents, dtype=bool)
        self._home_half = np.zeros(self.num_agents)
        self._statue_distance = np.zeros(self.num_agents)
        self._statue_lost = np.zeros(2 * self.n_arenas, dtype=bool)  # per team, home teams then away teams
        self._statue_standing = np.zeros(2 * self.n_arenas)
        self._steps = 0
        self._loadouts: list[str] = []

    @property
    def restarts(self) -> int:
        """How many times the game's browser was restarted after a crash or hang."""
        return self.batch.restarts

    def _start(self, obs: np.ndarray) -> np.ndarray:
        self._obs = obs
        self._returns[:] = 0
        self._dead[:] = False
        self._home_half[:] = 0
        self._statue_distance[:] = 0
        self._statue_lost[:] = False
        self._statue_standing[:] = 0
        self._steps = 0
        self._loadouts = [team_loadout(obs[3 * team : 3 * team + 3]) for team in range(2 * self.n_arenas)]
        self.opponent.new_game()
        return obs[: self.num_agents]

    def reset(self) -> np.ndarray:
        """New games in every arena: home observations ``(3 n_arenas, 64)``."""
        return self._start(self.batch.reset())

    def step(self, actions: np.ndarray) -> StepResult:
        """Home actions ``(3 n, H)`` plus the opponent's; at game end report stats and start new games."""
        home = env_values(actions, self.heads).astype(np.float32)
        away = self.opponent.act(self._obs[self.num_agents :])
        try:
            obs, rewards, done, stats = self.batch.step(np.concatenate([home, away]))
        except DerkBrowserError as err:
            first = self._start(self.batch.restart(str(err)))
            return StepResult(first, np.zeros(self.num_agents, np.float32), np.ones(self.num_agents, bool), [])
        self._returns += rewards
        self._dead |= obs[:, 0] <= 0.0
        self._home_half += obs[: self.num_agents, POSITION_UP_DOWN] < 0.0
        lost = obs[:, FRIEND_STATUE_DISTANCE] >= LOST_STATUE_DISTANCE
        self._statue_lost |= lost.reshape(-1, 3).any(1)  # statues stay destroyed
        self._statue_standing += ~self._statue_lost
        home_standing = np.repeat(~self._statue_lost[: self.n_arenas], 3)  # a team's statue stands for all three
        self._statue_distance += np.where(home_standing, obs[: self.num_agents, FRIEND_STATUE_DISTANCE], 0.0)
        self._steps += 1
        self._obs = obs
        if not done:
            return StepResult(obs[: self.num_agents], rewards[: self.num_agents], np.zeros(self.num_agents, bool), [])
        episodes = [self._arena_stats(a, stats) for a in range(self.n_arenas)]
        return StepResult(self.reset(), rewards[: self.num_agents], np.ones(self.num_agents, bool), episodes)

    def _arena_stats(self, arena: int, stats: np.ndarray | None) -> EpisodeStats:
        home = slice(3 * arena, 3 * arena + 3)
        away = slice(self.num_agents + 3 * arena, self.num_agents + 3 * arena + 3)
        items, opponent_items = self._loadouts[arena], self._loadouts[self.n_arenas + arena]
        out: EpisodeStats = {
            "items": items,
            "opponent_items": opponent_items,
            "armed": float(armed_derklings(items)),
            "opponent_armed": float(armed_derklings(opponent_items)),
            "draw": draw_kind(items),
            "return": float(self._returns[home].mean()),
            "kills": float(self._dead[away].sum()),
            "deaths": float(self._dead[home].sum()),
            "home_half": float(self._home_half[home].mean() / self._steps),
            **{f"home_half_slot{s}": float(self._home_half[3 * arena + s] / self._steps) for s in range(3)},
            "statue_distance": float(self._statue_distance[home].sum() / max(3 * self._statue_standing[arena], 1)),
            "statue_lost": float(self._statue_lost[arena]),
            "opponent_statue_lost": float(self._statue_lost[self.n_arenas + arena]),
            "statue_standing": float(self._statue_standing[arena] / self._steps),
            "opponent_statue_standing": float(self._statue_standing[self.n_arenas + arena] / self._steps),
        }
        if stats is not None:
            mine, theirs = stats[arena], stats[self.n_arenas + arena]
            out.update(
                {
                    "score": float(mine[0]),
                    "opponent_score": float(theirs[0]),
                    "win": float(mine[0] > theirs[0]),
                    "tie": float(mine[0] == theirs[0]),
                    "team_hitpoints": float(mine[2]),
                    "opponent_hitpoints": float(theirs[2]),
                }
            )
        return out

    def close(self) -> None:
        """Stop the game."""
        self.batch.close()


def make_opponent(config: PPOConfig, run_dir: Path | None, seed: int) -> Opponent:
    """The configured away team (a frozen checkpoint is checked to play Derk before any game starts)."""
    if config.opponent == "checkpoint":
        assert config.opponent_checkpoint is not None
        model = load_model(config.opponent_checkpoint)[0]
        if model.obs_shape != (OBS_SIZE,) or tuple(h.name for h in model.heads) != HEAD_NAMES:
            raise CheckpointError(
                f"{config.opponent_checkpoint} is not a Derk team ({model.obs_shape} inputs, heads "
                f"{[h.name for h in model.heads]}): pass --opponent-checkpoint a run of --env-id {DERK_ENV_ID}"
            )
        return FrozenPolicy(model, str(config.opponent_checkpoint), opponent_rng(seed))
    if config.opponent == "pool":
        assert run_dir is not None
        return CheckpointPool(run_dir, config.pool_size, seed)
    return RandomTeam(seed)


def make_derk_agents(
    config: PPOConfig, run_dir: Path | None, seed: int, reward: str | None = None, turbo: bool = True
) -> DerkAgents:
    """Derk agent rows for ``config`` (``reward`` overrides the config's, e.g. the score for evaluation)."""
    opponent = make_opponent(config, run_dir, seed)
    settings = DerkSettings(
        n_arenas=config.num_envs,
        reward=reward or config.reward,
        team_items=config.team_items,
        opponent_items=config.opponent_items,
        turbo=turbo,
        timeout_s=config.derk_timeout_s,
        restarts=config.derk_restarts,
        webgl=config.derk_webgl,
    )
    return DerkAgents(DerkBatch(settings), opponent, config.continuous, config.bins)
