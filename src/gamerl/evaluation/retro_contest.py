"""The Retro Contest protocol: a fixed timestep budget per level, the contest score, a per-level table.

**Score of an episode** (Nichol et al. 2018, "Gotta Learn Fast"): horizontal progress normalised so that
reaching the level's end is worth 9,000, plus a completion bonus of up to 1,000 that decays linearly to 0
at the episode limit of 18,000 frames (5 minutes of game time: 4,500 steps at frame skip 4, 15 FPS).
Progress is the *final* position, not the furthest one: running back loses what was gained.

How progress is measured, per game:

* **Sonic** (the three games of :data:`gamerl.envs.retro.SONIC_GAMES`) play stable-retro's ``contest``
  scenario. Its ``script.lua`` keeps the progress ``clip(x - x_start, 0, end_x) / end_x`` (``end_x``
  comes from a per-level table inside the Lua script, not from the info dict: the info variables are
  ``x``, ``y``, ``screen_x``, ``screen_y``, ``screen_x_end``, ``zone``, ``act``, ``lives``, ``rings``,
  ``score``, ``level_end_bonus``) and rewards each frame with ``9000 × Δprogress``, plus its own frame-based
  bonus on the frame the level is finished, which also ends the episode. So the cumulative reward / 9,000,
  clipped to 1, *is* the contest's progress; the bonus is recomputed here from the step at which progress
  first reaches 1 (equal to the Lua bonus to within one step).
* **Other games** (``Airstriker-Genesis-v0``, which has no horizontal progress) score *survival*: progress
  = steps survived / the episode limit, so surviving the whole limit "finishes" the level (at the limit,
  where the bonus is 0). An episode's score is thus 2 × its length at frame skip 4, at most 9,000; the
  game's own score is kept as the episode's ``return`` but not scored.

**The protocol** (the contest's ``retro_contest.local.make``): each level gets a fresh emulator (one per
process, a stable-retro limit) and a fresh policy from ``make_policy()``; episodes are played back to back
(reset after each end) until ``timesteps_per_level`` steps are spent. Episodes end as the game's scenario
says (Sonic: a life lost or the level's end; Airstriker: game over) or at the 18,000-frame limit. Actions
last ``frame_skip`` frames with the contest's *sticky* frame skip: with probability ``sticky_prob`` (0.25)
the previous action stays on for the first frame.

**The episode cut by the budget does not count** when at least one episode ended: the contest's monitor
recorded an episode when it ended, so an unfinished one never entered the mean. A budget shorter than the
first episode leaves no ended episode; the level is then scored by that partial episode as it stands (a
lower bound), and its row says ``partial``. A level's score is the mean of its episode scores; the overall
score is the mean over levels.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit

from gamerl.algorithms.worldmodels.policies import CollectPolicy, JerkPolicy, RandomPolicy
from gamerl.atomic import write_json_atomic
from gamerl.envs.retro import CONTEST_STICKY_PROB, SONIC_BUTTONS, SONIC_GAMES, check_rom, make_retro
from gamerl.envs.wrappers import StickyFrameSkip
from gamerl.errors import ConfigError
from gamerl.training.progress import TrainingProgress

PROGRESS_POINTS = 9_000.0
"""score of a finished level's horizontal progress"""

COMPLETION_BONUS = 1_000.0
"""bonus for finishing at step 0, decaying linearly to 0 at the episode limit"""

CONTEST_FRAME_LIMIT = 18_000
"""the contest's episode limit in emulator frames (5 minutes at 60 FPS; 4,500 steps at frame skip 4)"""

CONTEST_TIMESTEPS_PER_LEVEL = 1_000_000
"""the contest's budget per test level"""

_FINISHED = 1.0 - 1e-9
"""progress counted as the level's end (a cumulative float reward may fall short of 9,000 by rounding)"""


@runtime_checkable
class ContestPolicy(Protocol):
    """An agent under evaluation: sees raw frames, presses the Sonic buttons."""

    def reset(self) -> None:
        """A new episode starts."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """``obs``: the raw ``(224, 320, 3)`` uint8 frame → the ``MultiBinary(4)`` button vector
        (:data:`gamerl.envs.retro.SONIC_BUTTONS`)."""


@runtime_checkable
class RewardObserver(Protocol):
    """A policy that also wants each step's reward (JERK does); the protocol tells it after every step."""

    def observe(self, reward: float) -> None:
        """The reward of the last action."""


def completion_bonus(steps: int, max_steps: int) -> float:
    """Bonus for finishing a level after ``steps`` steps: 1,000 at 0, linearly down to 0 at ``max_steps``."""
    return COMPLETION_BONUS * (1.0 - min(steps / max_steps, 1.0))


def contest_score(progress: np.ndarray, max_steps: int) -> float:
    """Contest score of an episode from its progress ``(T,)`` after each step (1 = the level's end).

    ``9000 × final progress`` (clipped to [0, 1]) plus :func:`completion_bonus` at the first step where
    progress reaches 1, if it does.
    """
    progress = np.clip(np.asarray(progress, dtype=np.float64), 0.0, 1.0)
    if progress.size == 0:
        raise ConfigError("an episode needs at least one step to be scored")
    finished = np.flatnonzero(progress >= _FINISHED)
    bonus = completion_bonus(int(finished[0]) + 1, max_steps) if finished.size else 0.0
    final = 1.0 if progress[-1] >= _FINISHED else float(progress[-1])
    return PROGRESS_POINTS * final + bonus


def reward_progress(rewards: Sequence[float]) -> np.ndarray:
    """Progress ``(T,)`` from the per-step rewards of stable-retro's Sonic ``contest`` scenario
    (``9000 × Δprogress``, plus its own bonus at the level's end, which the clip to 1 removes)."""
    return np.clip(np.cumsum(np.asarray(rewards, dtype=np.float64)) / PROGRESS_POINTS, 0.0, 1.0)


def survival_progress(length: int, max_steps: int) -> np.ndarray:
    """Progress ``(length,)`` of a game without horizontal progress: steps survived / ``max_steps``."""
    return np.minimum(np.arange(1, length + 1) / max_steps, 1.0)


def episode_score(game: str, rewards: Sequence[float], max_steps: int) -> float:
    """Contest score of one episode of ``game`` from its per-step ``rewards`` (see the module docstring)."""
    progress = reward_progress(rewards) if game in SONIC_GAMES else survival_progress(len(rewards), max_steps)
    return contest_score(progress, max_steps)


def max_episode_steps(frame_skip: int) -> int:
    """The contest's 18,000-frame episode limit in agent steps (4,500 at frame skip 4)."""
    return CONTEST_FRAME_LIMIT // frame_skip


@dataclasses.dataclass(frozen=True)
class Episode:
    """One played episode: its contest score, its length in steps and the env's summed reward."""

    score: float
    length: int
    ret: float


@dataclasses.dataclass(frozen=True)
class LevelResult:
    """A level's episodes under the budget; ``cut`` is the episode the budget stopped (None if none)."""

    game: str
    level: str
    timesteps: int
    episodes: tuple[Episode, ...]
    cut: Episode | None

    def __post_init__(self) -> None:
        if not self.episodes and self.cut is None:
            raise ConfigError(f"{self.game} {self.level}: a level result needs at least one episode")

    @property
    def partial(self) -> bool:
        """No episode ended within the budget: the level is scored by the cut episode."""
        return not self.episodes

    @property
    def scores(self) -> list[float]:
        """The scores the level's mean is taken over (the cut episode's alone when :attr:`partial`)."""
        return [e.score for e in self.episodes or (self.cut,) if e is not None]

    @property
    def mean(self) -> float:
        """The level's contest score: the mean episode score."""
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        """Standard deviation of the episode scores (0 for a single episode)."""
        return float(np.std(self.scores))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready row: the table's columns plus every episode."""
        return {
            "game": self.game,
            "level": self.level,
            "timesteps": self.timesteps,
            "episodes": len(self.episodes),
            "mean_score": self.mean,
            "std_score": self.std,
            "partial": self.partial,
            "episode_scores": [e.score for e in self.episodes],
            "episode_lengths": [e.length for e in self.episodes],
            "episode_returns": [e.ret for e in self.episodes],
            "cut_episode": None if self.cut is None else dataclasses.asdict(self.cut),
        }


@dataclasses.dataclass(frozen=True)
class ContestReport:
    """Per-level results of a contest evaluation and the settings they were played under."""

    levels: tuple[LevelResult, ...]
    timesteps_per_level: int
    frame_skip: int
    sticky_prob: float
    seed: int

    @property
    def mean(self) -> float:
        """The overall contest score: the mean of the level scores."""
        return float(np.mean([level.mean for level in self.levels]))

    def table(self) -> str:
        """The per-level table (game, level, episodes, mean score, std) and the overall mean, as text."""
        header = ("game", "level", "episodes", "mean score", "std")
        rows = [
            (
                r.game,
                r.level,
                f"{len(r.episodes)}" + (" (partial)" if r.partial else ""),
                f"{r.mean:,.1f}",
                f"{r.std:,.1f}",
            )
            for r in self.levels
        ]
        footer = ("mean", f"{len(self.levels)} level" + "s" * (len(self.levels) != 1), "", f"{self.mean:,.1f}", "")
        widths = [max(len(row[i]) for row in (header, *rows, footer)) for i in range(len(header))]

        def line(row: tuple[str, ...]) -> str:
            cells = (c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
            return "  ".join(cells).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(header), rule, *map(line, rows), rule, line(footer)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "protocol": "retro-contest",
            "mean_score": self.mean,
            "timesteps_per_level": self.timesteps_per_level,
            "frame_skip": self.frame_skip,
            "max_episode_steps": max_episode_steps(self.frame_skip),
            "sticky_prob": self.sticky_prob,
            "seed": self.seed,
            "levels": [level.to_dict() for level in self.levels],
        }

    def save(self, path: Path) -> Path:
        """Write :meth:`to_dict` as JSON to ``path`` atomically."""
        return write_json_atomic(Path(path), self.to_dict())


def make_contest_env(
    game: str, level: str, frame_skip: int, sticky_prob: float, rng: np.random.Generator
) -> gym.Env[Any, Any]:
    """``game`` at ``level`` as the contest played it: Sonic buttons, sticky frame skip drawing from ``rng``,
    18,000-frame limit (and the game's turbo buttons, as in training)."""
    env = make_retro(game, level, frame_skip, sticky_prob=sticky_prob, rng=rng)
    return TimeLimit(env, max_episode_steps=max_episode_steps(frame_skip))


def play_level(
    env: gym.Env[Any, Any],
    game: str,
    level: str,
    policy: ContestPolicy,
    timesteps: int,
    max_steps: int,
    on_step: Callable[[], None],
) -> LevelResult:
    """Play ``policy`` on ``env`` for exactly ``timesteps`` steps, episodes back to back, and score them.

    ``env`` is ``game`` at ``level`` (a :func:`make_contest_env`), ``max_steps`` its episode limit;
    ``on_step()`` is called after every step.
    """
    observer = policy if isinstance(policy, RewardObserver) else None
    episodes: list[Episode] = []
    rewards: list[float] = []
    obs, _ = env.reset()
    policy.reset()
    for step in range(1, timesteps + 1):
        obs, reward, terminated, truncated, _ = env.step(policy.act(obs))
        rewards.append(float(reward))
        if observer is not None:
            observer.observe(float(reward))
        on_step()
        if terminated or truncated:
            episodes.append(Episode(episode_score(game, rewards, max_steps), len(rewards), sum(rewards)))
            rewards = []
            if step < timesteps:
                obs, _ = env.reset()
                policy.reset()
    cut = Episode(episode_score(game, rewards, max_steps), len(rewards), sum(rewards)) if rewards else None
    return LevelResult(game, level, timesteps, tuple(episodes), cut)


def evaluate_contest(
    make_policy: Callable[[], ContestPolicy],
    levels: Sequence[tuple[str, str]],
    timesteps_per_level: int,
    frame_skip: int = 4,
    seed: int = 0,
    progress: bool = True,
    *,
    sticky_prob: float = CONTEST_STICKY_PROB,
) -> ContestReport:
    """Run the Retro Contest protocol: every ``(game, level)`` for ``timesteps_per_level`` steps with a fresh
    policy from ``make_policy()`` and a fresh emulator, scored as the contest (see the module docstring).

    Every game's ROM is checked before any level is played, so a missing Sonic ROM fails at once with
    :func:`gamerl.envs.retro.check_rom`'s one-line error. ``seed`` drives the sticky frame skip (the
    emulator itself is deterministic; a policy's own randomness is seeded by its factory, e.g.
    :func:`baseline_policy`). ``progress`` shows a bar over all levels' timesteps. Write the result with
    :meth:`ContestReport.save`.
    """
    if timesteps_per_level < 1:
        raise ConfigError(
            f"timesteps_per_level must be >= 1, got {timesteps_per_level} (contest: {CONTEST_TIMESTEPS_PER_LEVEL:,})"
        )
    if not levels:
        raise ConfigError("no levels to evaluate: pass contest_levels('validation') or [(game, level), ...]")
    StickyFrameSkip.check(frame_skip, sticky_prob)
    for game in dict.fromkeys(game for game, _ in levels):
        check_rom(game)
    level_seeds = np.random.SeedSequence(seed).spawn(len(levels))
    results: list[LevelResult] = []
    done = 0
    with TrainingProgress(timesteps_per_level * len(levels), "timesteps", progress) as bar:

        def on_step() -> None:
            nonlocal done
            done += 1
            stats = {"score": float(np.mean([r.mean for r in results]))} if results else {}
            bar.update(done, done, **stats)

        for (game, level), level_seed in zip(levels, level_seeds, strict=True):
            env = make_contest_env(game, level, frame_skip, sticky_prob, np.random.default_rng(level_seed))
            try:
                policy = make_policy()
                results.append(
                    play_level(env, game, level, policy, timesteps_per_level, max_episode_steps(frame_skip), on_step)
                )
            finally:
                env.close()
    return ContestReport(tuple(results), timesteps_per_level, frame_skip, sticky_prob, seed)


class CollectPolicyAdapter:
    """A data-collection policy of :mod:`gamerl.algorithms.worldmodels.policies` (blind to frames) as a
    :class:`ContestPolicy` that also observes rewards."""

    def __init__(self, policy: CollectPolicy) -> None:
        self.policy = policy

    def reset(self) -> None:
        """Start a new episode."""
        self.policy.reset()

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The wrapped policy's next action (``obs`` is ignored)."""
        return np.asarray(self.policy.act(), dtype=np.int8)

    def observe(self, reward: float) -> None:
        """Pass the reward on (JERK back-tracks after a run that earned nothing)."""
        self.policy.observe(reward)


BASELINES: dict[str, Callable[[spaces.Space[Any], np.random.Generator], CollectPolicy]] = {
    "random": RandomPolicy,
    "jerk": JerkPolicy,
}
"""baseline policies by name: uniform random buttons, and JERK's exploration (run right, jump, back-track)"""


def baseline_policy(name: str, seed: int = 0) -> Callable[[], ContestPolicy]:
    """A ``make_policy`` for :func:`evaluate_contest` playing baseline ``name`` (see :data:`BASELINES`);
    each call (one per level) gets its own generator, spawned from ``seed``."""
    if name not in BASELINES:
        raise ConfigError(f"unknown baseline '{name}': choose one of {', '.join(BASELINES)}")
    space = spaces.MultiBinary(len(SONIC_BUTTONS))
    seeds = np.random.SeedSequence(seed)

    def make_policy() -> ContestPolicy:
        return CollectPolicyAdapter(BASELINES[name](space, np.random.default_rng(seeds.spawn(1)[0])))

    return make_policy
