"""Atari Pong from pixels, as in "Pong from Pixels": 80x80 binary frames, difference of consecutive frames.

``PongDiffVectorEnv`` runs N games split over W worker processes (W=0: all in this process). Workers
step the emulator with the frame skip inside ALE, preprocess, take the frame difference and write it
into shared memory, so the learner only sees ``(N, 6400)`` int8 arrays. Every game's full state
(emulator, its RNG, the previous frame) can be captured and restored, which makes ``--resume`` exact.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import pickle
import traceback
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np

from gamerl.errors import ConfigError, GamerlError
from gamerl.training.interrupt import ignore_interrupts

FRAME_SIZE = 80 * 80
"""length of one preprocessed frame"""
UP, DOWN = 1, 0
"""the policy's binary action: 1 = UP (ALE action RIGHT), 0 = DOWN (ALE action LEFT)"""
_ALE_ACTION = {UP: 2, DOWN: 3}
"""index into Pong's minimal action set [NOOP, FIRE, RIGHT, LEFT, RIGHTFIRE, LEFTFIRE]"""
_BACKGROUND_RGB_RED = (144, 109)
"""the post's two background values in the red channel"""
_BACKGROUND_GRAY = (87, 107)
"""the same two background colours in ALE's grayscale palette (verified against RGB in tests)"""


def preprocess_rgb(frame: np.ndarray) -> np.ndarray:
    """The post's ``prepro``: (210, 160, 3) uint8 RGB → (6400,) uint8 of 0/1.

    Crop rows 35–195, keep every second pixel of the red channel, erase both backgrounds, set the rest to 1.
    """
    image = frame[35:195:2, ::2, 0]
    return (~np.isin(image, _BACKGROUND_RGB_RED)).astype(np.uint8).ravel()


def preprocess_gray(frame: np.ndarray) -> np.ndarray:
    """Same result as :func:`preprocess_rgb` from ALE's (210, 160) grayscale screen (a third of the bytes)."""
    image = frame[35:195:2, ::2]
    return ((image != _BACKGROUND_GRAY[0]) & (image != _BACKGROUND_GRAY[1])).astype(np.uint8).ravel()


@dataclasses.dataclass(frozen=True)
class AtariSettings:
    """Emulator settings shared by every game of a vector env."""

    game: str = "pong"
    frame_skip: int = 4
    repeat_action_probability: float = 0.0
    max_frames_per_episode: int = 108_000

    def __post_init__(self) -> None:
        if self.frame_skip < 1:
            raise ConfigError(f"frame_skip must be >= 1, got {self.frame_skip}: pass --frame-skip 4")
        if not 0.0 <= self.repeat_action_probability < 1.0:
            raise ConfigError(
                f"repeat_action_probability must be in [0, 1), got {self.repeat_action_probability}: try 0.0 or 0.25"
            )


class _Games:
    """K ALE games stepped in a loop; the work one worker process (or the learner's shard) does.

    Without sticky actions the frame skip runs inside ALE (one ``act`` per step). With sticky actions
    the frames are stepped here, each frame repeating the previous action with probability p
    (Machado et al. 2018), drawn from this game's own NumPy generator: ALE's own sticky actions
    depend on its last action, which ``cloneState`` does not capture, so resuming would not be exact.
    """

    def __init__(self, seeds: list[int], settings: AtariSettings, obs: np.ndarray) -> None:
        from ale_py import ALEInterface, LoggerMode, roms

        ALEInterface.setLoggerMode(LoggerMode.Error)
        self.ales = []
        for seed in seeds:
            ale = ALEInterface()
            ale.setInt("random_seed", int(seed))
            ale.setInt("frame_skip", 1 if settings.repeat_action_probability else settings.frame_skip)
            ale.setFloat("repeat_action_probability", 0.0)
            ale.setInt("max_num_frames_per_episode", settings.max_frames_per_episode)
            ale.loadROM(roms.get_rom_path(settings.game))
            self.ales.append(ale)
        self.actions = self.ales[0].getMinimalActionSet()
        self.settings = settings
        self.sticky_rngs = [np.random.default_rng(seed) for seed in seeds]
        self.last_actions = [0] * len(seeds)
        """per game: index (into the minimal action set) of the action the emulator last ran"""
        self.obs = obs
        """(K, 6400) int8 view this shard writes its difference frames into"""
        self.prev = np.zeros((len(seeds), FRAME_SIZE), dtype=np.uint8)
        self._screen = np.empty((210, 160), dtype=np.uint8)

    def _frame(self, i: int) -> np.ndarray:
        self.ales[i].getScreenGrayscale(self._screen)
        return preprocess_gray(self._screen)

    def _diff(self, i: int, out: np.ndarray) -> None:
        cur = self._frame(i)
        np.subtract(cur, self.prev[i], out=out, dtype=np.int8, casting="unsafe")
        self.prev[i] = cur

    def _act(self, i: int, action: int) -> float:
        """Run one agent step of game ``i`` with minimal-action-set index ``action``; return its reward."""
        p = self.settings.repeat_action_probability
        if not p:
            return float(self.ales[i].act(self.actions[action]))
        reward = 0.0
        for _ in range(self.settings.frame_skip):
            if self.sticky_rngs[i].random() >= p:
                self.last_actions[i] = action
            reward += self.ales[i].act(self.actions[self.last_actions[i]])
        return reward

    def _restart(self, i: int) -> None:
        self.ales[i].reset_game()
        self.last_actions[i] = 0
        self.prev[i] = 0

    def reset(self) -> None:
        for i in range(len(self.ales)):
            self._restart(i)
            self._diff(i, self.obs[i])

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rewards = np.zeros(len(self.ales), dtype=np.float32)
        dones = np.zeros(len(self.ales), dtype=bool)
        for i, ale in enumerate(self.ales):
            rewards[i] = self._act(i, _ALE_ACTION[int(actions[i])])
            if ale.game_over():
                dones[i] = True
                self._restart(i)
            self._diff(i, self.obs[i])
        return rewards, dones

    def get_state(self) -> list[bytes]:
        return [
            pickle.dumps(
                (
                    ale.cloneState(include_rng=True),
                    self.prev[i].copy(),
                    self.sticky_rngs[i].bit_generator.state,
                    self.last_actions[i],
                )
            )
            for i, ale in enumerate(self.ales)
        ]

    def set_state(self, states: list[bytes]) -> None:
        for i, blob in enumerate(states):
            ale_state, prev, sticky_rng, last_action = pickle.loads(blob)
            self.ales[i].restoreState(ale_state)
            self.prev[i] = prev
            self.sticky_rngs[i].bit_generator.state = sticky_rng
            self.last_actions[i] = last_action

    def rgb(self, i: int) -> np.ndarray:
        return self.ales[i].getScreenRGB()


_COMMANDS = ("step", "reset", "get_state", "set_state", "rgb")


def _worker(
    conn: Connection, shm_name: str, num_envs: int, lo: int, hi: int, seeds: list[int], settings: AtariSettings
) -> None:
    """Worker process: own games ``lo:hi``, write their frames into shared memory, answer commands."""
    ignore_interrupts()
    shm = SharedMemory(name=shm_name)
    games = None
    try:
        obs = np.ndarray((num_envs, FRAME_SIZE), dtype=np.int8, buffer=shm.buf)[lo:hi]
        games = _Games(seeds, settings, obs)
        conn.send(("ok", None))
        while True:
            cmd, args = conn.recv()
            if cmd == "close":
                conn.send(("ok", None))
                break
            conn.send(("ok", getattr(games, cmd)(*args)))
    except EOFError:  # the learner is gone
        pass
    except Exception:  # reported to the learner, which raises it
        conn.send(("error", traceback.format_exc()))
    finally:
        del games, obs
        shm.close()


class _RemoteGames:
    """A shard of games in a worker process; ``call`` = ``send`` then ``receive``."""

    def __init__(
        self, ctx: Any, shm_name: str, num_envs: int, lo: int, hi: int, seeds: list[int], settings: AtariSettings
    ) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, shm_name, num_envs, lo, hi, seeds, settings), daemon=True)
        self.proc.start()
        child.close()

    def send(self, cmd: str, *args: Any) -> None:
        self.conn.send((cmd, args))

    def receive(self, timeout: float = 120.0) -> Any:
        if not self.conn.poll(timeout):
            raise GamerlError(f"an Atari worker did not answer within {timeout:.0f} s: the machine may be overloaded")
        try:
            status, payload = self.conn.recv()
        except EOFError:
            raise GamerlError("an Atari worker process died: check memory (dmesg) and run again") from None
        if status == "error":
            raise GamerlError(f"an Atari worker failed: {payload.strip().splitlines()[-1]}")
        return payload

    def close(self) -> None:
        try:
            self.send("close")
            self.conn.poll(5.0) and self.conn.recv()
        except (BrokenPipeError, EOFError, OSError):
            pass
        self.proc.join(timeout=5.0)
        if self.proc.is_alive():
            self.proc.kill()


class PongDiffVectorEnv:
    """N Pong games with the post's preprocessing, stepped together.

    Observations are ``(N, 6400)`` int8 difference frames in {-1, 0, 1}; actions are ``(N,)`` ints
    (1 = UP, 0 = DOWN). A finished game is reset at once and its first difference frame returned
    (the post's ``prev_x = None``: the first frame is diffed against zeros).

    The games are split into shards: ``num_workers`` worker processes, plus the learner's own shard of
    ``local_games`` games that it steps while the workers step theirs (on a 2-core machine, one worker
    and a local shard keep both cores busy without a third process competing for them).
    """

    def __init__(
        self,
        num_envs: int,
        seed: int,
        num_workers: int = 1,
        settings: AtariSettings | None = None,
        local_games: int | None = None,
    ) -> None:
        if num_envs < 1:
            raise ConfigError(f"num_envs must be >= 1, got {num_envs}: pass --num-envs 16")
        if num_workers < 0:
            raise ConfigError(f"num_workers must be >= 0, got {num_workers}: pass --num-workers 1 (0 = in-process)")
        num_workers = min(num_workers, num_envs)
        if local_games is None:
            local_games = num_envs // (num_workers + 1)
        if not 0 <= local_games <= num_envs or (num_workers == 0 and local_games != num_envs):
            raise ConfigError(
                f"local_games must be in [0, {num_envs}] (all games when num_workers is 0), got {local_games}"
            )
        self.num_envs = num_envs
        self.settings = settings or AtariSettings()
        seeds = list(np.random.SeedSequence(seed).generate_state(num_envs).astype(np.int64) % (2**31 - 1))
        self._remotes: list[tuple[int, int, _RemoteGames]] = []
        self._shm: SharedMemory | None = None
        if num_workers == 0:
            self._obs = np.zeros((num_envs, FRAME_SIZE), dtype=np.int8)
        else:
            self._shm = SharedMemory(create=True, size=num_envs * FRAME_SIZE)
            self._obs = np.ndarray((num_envs, FRAME_SIZE), dtype=np.int8, buffer=self._shm.buf)
        self._local_end = local_games
        self._local = _Games(seeds[:local_games], self.settings, self._obs[:local_games]) if local_games else None
        edges = np.linspace(local_games, num_envs, num_workers + 1).astype(int)
        try:
            ctx = mp.get_context("spawn")
            for lo, hi in zip(edges[:-1], edges[1:], strict=True):
                remote = _RemoteGames(ctx, self._shm.name, num_envs, int(lo), int(hi), seeds[lo:hi], self.settings)  # type: ignore[union-attr]
                self._remotes.append((int(lo), int(hi), remote))
            for _, _, remote in self._remotes:
                remote.receive()
        except BaseException:
            self.close()
            raise

    def _call(
        self, cmd: str, local_args: tuple[Any, ...] = (), remote_args: list[tuple[Any, ...]] | None = None
    ) -> list[Any]:
        """Run ``cmd`` on every shard at once (workers first, then the local shard); results in game order."""
        for k, (_, _, remote) in enumerate(self._remotes):
            remote.send(cmd, *(remote_args[k] if remote_args else ()))
        results = [getattr(self._local, cmd)(*local_args)] if self._local is not None else []
        return results + [remote.receive() for _, _, remote in self._remotes]

    def reset(self) -> np.ndarray:
        """Start every game anew; return the first ``(N, 6400)`` int8 difference frames (a view: copy to keep)."""
        self._call("reset")
        return self._obs

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Apply ``(N,)`` binary actions.

        Returns ``(obs, rewards, dones)``: a ``(N, 6400)`` int8 view, ``(N,)`` float32 and ``(N,)`` bool.
        """
        actions = np.asarray(actions)
        results = self._call("step", (actions[: self._local_end],), [(actions[lo:hi],) for lo, hi, _ in self._remotes])
        rewards = np.concatenate([r for r, _ in results])
        dones = np.concatenate([d for _, d in results])
        return self._obs, rewards, dones

    def get_state(self) -> dict[str, Any]:
        """Everything needed to continue exactly: per-game emulator + RNG state, previous frames, current obs."""
        games = [s for shard in self._call("get_state") for s in shard]
        return {"games": games, "obs": self._obs.copy(), "settings": dataclasses.asdict(self.settings)}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned (same number of games and settings)."""
        if len(state["games"]) != self.num_envs or state["settings"] != dataclasses.asdict(self.settings):
            raise ConfigError(
                f"saved env state is for {len(state['games'])} games with {state['settings']}, "
                f"this env has {self.num_envs} with {dataclasses.asdict(self.settings)}: "
                "resume with the run's own config"
            )
        games = state["games"]
        self._call("set_state", (games[: self._local_end],), [(games[lo:hi],) for lo, hi, _ in self._remotes])
        self._obs[:] = state["obs"]

    def render_rgb(self, index: int = 0) -> np.ndarray:
        """The (210, 160, 3) RGB screen of game ``index``."""
        if index < self._local_end:
            return self._local.rgb(index)  # type: ignore[union-attr]
        lo, _, remote = next(r for r in self._remotes if r[0] <= index < r[1])
        remote.send("rgb", index - lo)
        return remote.receive()  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the workers and free shared memory (safe to call twice)."""
        for _, _, remote in self._remotes:
            remote.close()
        self._remotes = []
        if self._shm is not None:
            self._local = None
            self._obs = np.zeros_like(self._obs)
            self._shm.close()
            self._shm.unlink()
            self._shm = None

    def __enter__(self) -> PongDiffVectorEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_shm", None) is not None:
            self.close()
