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
    """K ALE games stepped in a loop; the work one worker process (or the learner, with W=0) does."""

    def __init__(self, seeds: list[int], settings: AtariSettings) -> None:
        from ale_py import ALEInterface, LoggerMode, roms

        ALEInterface.setLoggerMode(LoggerMode.Error)
        self.ales = []
        for seed in seeds:
            ale = ALEInterface()
            ale.setInt("random_seed", int(seed))
            ale.setInt("frame_skip", settings.frame_skip)
            ale.setFloat("repeat_action_probability", settings.repeat_action_probability)
            ale.setInt("max_num_frames_per_episode", settings.max_frames_per_episode)
            ale.loadROM(roms.get_rom_path(settings.game))
            self.ales.append(ale)
        self.actions = self.ales[0].getMinimalActionSet()
        self.prev = np.zeros((len(seeds), FRAME_SIZE), dtype=np.uint8)
        self._screen = np.empty((210, 160), dtype=np.uint8)

    def _frame(self, i: int) -> np.ndarray:
        self.ales[i].getScreenGrayscale(self._screen)
        return preprocess_gray(self._screen)

    def _diff(self, i: int, out: np.ndarray) -> None:
        cur = self._frame(i)
        np.subtract(cur, self.prev[i], out=out, dtype=np.int8, casting="unsafe")
        self.prev[i] = cur

    def reset(self, out: np.ndarray) -> None:
        for i, ale in enumerate(self.ales):
            ale.reset_game()
            self.prev[i] = 0
            self._diff(i, out[i])

    def step(self, actions: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rewards = np.zeros(len(self.ales), dtype=np.float32)
        dones = np.zeros(len(self.ales), dtype=bool)
        for i, ale in enumerate(self.ales):
            rewards[i] = ale.act(self.actions[_ALE_ACTION[int(actions[i])]])
            if ale.game_over():
                dones[i] = True
                ale.reset_game()
                self.prev[i] = 0
            self._diff(i, out[i])
        return rewards, dones

    def get_state(self) -> list[bytes]:
        return [pickle.dumps((ale.cloneState(include_rng=True), self.prev[i].copy())) for i, ale in enumerate(self.ales)]

    def set_state(self, states: list[bytes]) -> None:
        for i, blob in enumerate(states):
            ale_state, prev = pickle.loads(blob)
            self.ales[i].restoreState(ale_state)
            self.prev[i] = prev

    def rgb(self, i: int) -> np.ndarray:
        return self.ales[i].getScreenRGB()


def _worker(conn: Connection, shm_name: str, num_envs: int, lo: int, hi: int, seeds: list[int], settings: AtariSettings) -> None:
    shm = SharedMemory(name=shm_name)
    try:
        obs = np.ndarray((num_envs, FRAME_SIZE), dtype=np.int8, buffer=shm.buf)[lo:hi]
        games = _Games(seeds, settings)
        conn.send(("ok", None))
        while True:
            cmd, data = conn.recv()
            if cmd == "step":
                conn.send(("ok", games.step(data, obs)))
            elif cmd == "reset":
                games.reset(obs)
                conn.send(("ok", None))
            elif cmd == "get_state":
                conn.send(("ok", games.get_state()))
            elif cmd == "set_state":
                games.set_state(data)
                conn.send(("ok", None))
            elif cmd == "rgb":
                conn.send(("ok", games.rgb(data)))
            elif cmd == "close":
                conn.send(("ok", None))
                break
    except (KeyboardInterrupt, EOFError):
        pass
    except Exception:  # reported to the learner, which raises it
        conn.send(("error", traceback.format_exc()))
    finally:
        del obs
        shm.close()


class PongDiffVectorEnv:
    """N Pong games with the post's preprocessing, stepped together.

    Observations are ``(N, 6400)`` int8 difference frames in {-1, 0, 1}; actions are ``(N,)`` ints
    (1 = UP, 0 = DOWN). A finished game is reset at once and its first difference frame returned
    (the post's ``prev_x = None``: the first frame is diffed against zeros).
    """

    def __init__(self, num_envs: int, seed: int, num_workers: int = 2, settings: AtariSettings | None = None) -> None:
        if num_envs < 1:
            raise ConfigError(f"num_envs must be >= 1, got {num_envs}: pass --num-envs 8")
        if num_workers < 0:
            raise ConfigError(f"num_workers must be >= 0, got {num_workers}: pass --num-workers 2 (0 = in-process)")
        self.num_envs = num_envs
        self.settings = settings or AtariSettings()
        seeds = np.random.SeedSequence(seed).generate_state(num_envs).astype(np.int64) % (2**31 - 1)
        num_workers = min(num_workers, num_envs)
        self._procs: list[Any] = []
        self._conns: list[Connection] = []
        self._shm: SharedMemory | None = None
        if num_workers == 0:
            self._local: _Games | None = _Games(list(seeds), self.settings)
            self._obs = np.zeros((num_envs, FRAME_SIZE), dtype=np.int8)
            self._bounds = [(0, num_envs)]
            return
        self._local = None
        self._shm = SharedMemory(create=True, size=num_envs * FRAME_SIZE)
        self._obs = np.ndarray((num_envs, FRAME_SIZE), dtype=np.int8, buffer=self._shm.buf)
        edges = np.linspace(0, num_envs, num_workers + 1).astype(int)
        self._bounds = list(zip(edges[:-1], edges[1:], strict=True))
        ctx = mp.get_context("spawn")
        try:
            for lo, hi in self._bounds:
                parent, child = ctx.Pipe()
                args = (child, self._shm.name, num_envs, int(lo), int(hi), list(seeds[lo:hi]), self.settings)
                proc = ctx.Process(target=_worker, args=args, daemon=True)
                proc.start()
                child.close()
                self._procs.append(proc)
                self._conns.append(parent)
            for conn in self._conns:
                self._receive(conn)
        except BaseException:
            self.close()
            raise

    def _receive(self, conn: Connection, timeout: float = 60.0) -> Any:
        if not conn.poll(timeout):
            raise GamerlError(f"an Atari worker did not answer within {timeout:.0f} s: the machine may be overloaded")
        try:
            status, payload = conn.recv()
        except EOFError:
            raise GamerlError("an Atari worker process died: check memory (dmesg) and run again") from None
        if status == "error":
            raise GamerlError(f"an Atari worker failed: {payload.strip().splitlines()[-1]}")
        return payload

    def _broadcast(self, cmd: str, per_worker: list[Any] | None = None) -> list[Any]:
        for k, conn in enumerate(self._conns):
            conn.send((cmd, None if per_worker is None else per_worker[k]))
        return [self._receive(conn) for conn in self._conns]

    def reset(self) -> np.ndarray:
        """Start every game anew; return the first ``(N, 6400)`` int8 difference frames (a view: copy to keep)."""
        if self._local is not None:
            self._local.reset(self._obs)
        else:
            self._broadcast("reset")
        return self._obs

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Apply ``(N,)`` binary actions; return ``(obs (N, 6400) int8 view, rewards (N,) float32, dones (N,) bool)``."""
        actions = np.asarray(actions)
        if self._local is not None:
            rewards, dones = self._local.step(actions, self._obs)
            return self._obs, rewards, dones
        results = self._broadcast("step", [actions[lo:hi] for lo, hi in self._bounds])
        rewards = np.concatenate([r for r, _ in results])
        dones = np.concatenate([d for _, d in results])
        return self._obs, rewards, dones

    def get_state(self) -> dict[str, Any]:
        """Everything needed to continue exactly: per-game emulator + RNG state, previous frames, current obs."""
        if self._local is not None:
            games = self._local.get_state()
        else:
            games = [s for chunk in self._broadcast("get_state") for s in chunk]
        return {"games": games, "obs": self._obs.copy(), "settings": dataclasses.asdict(self.settings)}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned (same number of games and settings)."""
        if len(state["games"]) != self.num_envs or state["settings"] != dataclasses.asdict(self.settings):
            raise ConfigError(
                f"saved env state is for {len(state['games'])} games with {state['settings']}, "
                f"this env has {self.num_envs} with {dataclasses.asdict(self.settings)}: resume with the run's own config"
            )
        if self._local is not None:
            self._local.set_state(state["games"])
        else:
            self._broadcast("set_state", [state["games"][lo:hi] for lo, hi in self._bounds])
        self._obs[:] = state["obs"]

    def render_rgb(self, index: int = 0) -> np.ndarray:
        """The (210, 160, 3) RGB screen of game ``index``."""
        if self._local is not None:
            return self._local.rgb(index)
        worker = next(k for k, (lo, hi) in enumerate(self._bounds) if lo <= index < hi)
        self._conns[worker].send(("rgb", index - self._bounds[worker][0]))
        return self._receive(self._conns[worker])  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the workers and free shared memory (safe to call twice)."""
        for conn in self._conns:
            try:
                conn.send(("close", None))
                conn.poll(5.0) and conn.recv()
            except (BrokenPipeError, EOFError, OSError):
                pass
        for proc in self._procs:
            proc.join(timeout=5.0)
            if proc.is_alive():
                proc.kill()
        self._procs, self._conns = [], []
        if self._shm is not None:
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
