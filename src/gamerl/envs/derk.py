"""Derk's Gym (Dr. Derk's Mutant Battlegrounds, gym-derk 1.1.1) run offline, owned end to end.

gym-derk needs NumPy < 2 and old ``gym``, so the game runs in a worker process with its own
interpreter (``.venv-derk``, made by ``scripts/setup.sh``; or ``GAMERL_DERK_PYTHON``). The worker
(:mod:`gamerl.envs.derk_worker`) owns an Xvfb and a Chromium kept off the network, and plays a patched
copy of the app bundle from the cache dir. This module starts it in its own process group, puts every
request under a timeout, and on a crash or hang kills the group (worker, browser and Xvfb) by its id,
restarts it, or reports one clear error.

Two interfaces: :class:`DerkBatch` (arrays over ``n_arenas``, for training) and
:class:`DerkParallelEnv` (PettingZoo ``ParallelEnv``, agents ``arena{a}_team{t}_slot{s}``).
"""

from __future__ import annotations

import ctypes.util
import dataclasses
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from gamerl.envs.derk_rewards import load_reward
from gamerl.errors import ConfigError, DependencyError, GamerlError

OBS_SIZE = 64
STEPS_PER_GAME = 150
FRIEND_STATUE_DISTANCE = 2
"""observation column: distance to the own statue (the sensor reads 1.0 beyond its range, and
:data:`LOST_STATUE_DISTANCE` once the statue is destroyed: the game's ``UpdateSenses`` shader)"""
LOST_STATUE_DISTANCE = 2.0
POSITION_UP_DOWN = 29
"""observation column: position along the axis between the statues, in the team's own frame (< 0: own half)"""
HEAD_NAMES = ("move_x", "rotate", "chase_focus", "cast_slot", "focus")
ITEMS = {
    "arms": ("Talons", "BloodClaws", "Cleavers", "Cripplers", "Pistol", "Magnum", "Blaster"),
    "misc": ("FrogLegs", "IronBubblegum", "HeliumBubblegum", "Shell", "Trombone"),
    "tail": ("HealingGland", "VampireGland", "ParalyzingDart"),
}
ITEM_COLUMNS = (
    "Talons", "BloodClaws", "Cleavers", "Cripplers", "HealingGland", "VampireGland", "FrogLegs", "Pistol",
    "Magnum", "Blaster", "ParalyzingDart", "IronBubblegum", "HeliumBubblegum", "Shell", "Trombone",
)  # fmt: skip
"""the items a derkling carries, as observation columns 32-46 (gym-derk's ``Has<Item>`` senses), in order"""
FIRST_ITEM_COLUMN = 32
DAMAGE_ITEMS = frozenset(ITEMS["arms"]) | {"VampireGland"}
"""the items that hurt a target (the game's descriptions): every arms item and the VampireGland"""
RANGED_ITEMS = frozenset({"Pistol", "Magnum", "Blaster"})
MESA_PACKAGES = "libegl1 libegl-mesa0 libgl1-mesa-dri"
"""Debian's packages of Mesa's EGL and its llvmpipe driver, on which Chromium's WebGL runs fastest here"""
INSTALL_HINT = f"install it with 'apt-get install -y chromium xvfb xauth fonts-liberation {MESA_PACKAGES}' (as root)"

WEBGL_CHOICES = ("auto", "llvmpipe", "swiftshader")
WEBGL_RENDERER = {"llvmpipe": "llvmpipe", "swiftshader": "SwiftShader"}
"""what the page's WebGL renderer names when the backend is in use"""


class DerkBrowserError(GamerlError):
    """The game's browser (or its worker) crashed or hung."""


def action_space() -> spaces.Tuple:
    """A derkling's action: MoveX, Rotate [-1, 1], ChaseFocus [0, 1], CastingSlot 0-3, ChangeFocus 0-7"""
    return spaces.Tuple(
        (
            spaces.Box(-1.0, 1.0, (), np.float32),
            spaces.Box(-1.0, 1.0, (), np.float32),
            spaces.Box(0.0, 1.0, (), np.float32),
            spaces.Discrete(4),
            spaces.Discrete(8),
        )
    )


RANDOM_ITEMS = "random"
"""the loadout that leaves a team's items to the game's random draw, as ``None`` does"""


def parse_team_items(text: str | None, name: str = "team_items") -> list[dict[str, Any]] | None:
    """``'arms,misc,tail;…'`` for the 3 derklings → gym-derk creature configs; None or ``'random'`` =
    random per game. ``name`` is the setting errors name."""
    if text is None or text == RANDOM_ITEMS:
        return None
    members = text.split(";")
    example = "e.g. 'Pistol,,;Talons,,;Magnum,,', or 'random'"
    if len(members) != 3:
        raise ConfigError(f"{name} needs 3 derklings separated by ';', got {len(members)}: {example}")
    team = []
    for member in members:
        slots = [s.strip() or None for s in member.split(",")]
        if len(slots) != 3:
            raise ConfigError(f"{name}: each derkling needs 'arms,misc,tail' (empty allowed), got '{member}'")
        for slot, item in zip(ITEMS, slots, strict=True):
            if item is not None and item not in ITEMS[slot]:
                raise ConfigError(
                    f"{name}: '{item}' is not one of the {slot} items: choose from {', '.join(ITEMS[slot])}"
                )
        team.append({"slots": slots})
    return team


def team_loadout(team_obs: np.ndarray) -> str:
    """A team's items read from its three derklings' observations ``(3, 64)``, as ``'arms,misc,tail;…'``
    (the format of ``--team-items``, so a game's draw can be replayed)."""
    members = []
    for senses in team_obs:
        carried = {ITEM_COLUMNS[i] for i in np.flatnonzero(senses[FIRST_ITEM_COLUMN:][: len(ITEM_COLUMNS)] > 0.5)}
        members.append(",".join(next((i for i in ITEMS[slot] if i in carried), "") for slot in ITEMS))
    return ";".join(members)


def armed_derklings(loadout: str) -> int:
    """How many derklings of a ``'arms,misc,tail;…'`` loadout carry an item that does damage."""
    return sum(bool(DAMAGE_ITEMS & set(member.split(","))) for member in loadout.split(";"))


DRAW_KINDS = ("ranged", "melee", "drain", "unarmed")
"""what a team's items let it hurt with, best first: :func:`draw_kind`"""


def draw_kind(loadout: str) -> str:
    """A team's ``'arms,misc,tail;…'`` loadout by its best way to do damage: ``ranged`` (a Pistol, Magnum or
    Blaster), ``melee`` (other arms items), ``drain`` (only VampireGlands) or ``unarmed`` (none of these)."""
    items = set(loadout.replace(";", ",").split(","))
    if items & RANGED_ITEMS:
        return "ranged"
    if items & set(ITEMS["arms"]):
        return "melee"
    return "drain" if items & DAMAGE_ITEMS else "unarmed"


def row(n_arenas: int, arena: int, team: int, slot: int) -> int:
    """Row of agent ``slot`` of ``team`` (0 home, 1 away) in ``arena`` in gym-derk's arrays."""
    return 3 * n_arenas * team + 3 * arena + slot


def derk_python() -> Path:
    """The interpreter that has gym-derk (``$GAMERL_DERK_PYTHON`` or ``.venv-derk`` beside this venv)."""
    env = os.environ.get("GAMERL_DERK_PYTHON")
    path = Path(env) if env else Path(sys.prefix).parent / ".venv-derk" / "bin" / "python"
    if not path.exists():
        raise DependencyError(
            f"Derk's Gym needs its own Python with gym-derk==1.1.1 and numpy<2, not found at {path}: "
            "run 'bash scripts/setup.sh' (it creates .venv-derk) or set GAMERL_DERK_PYTHON"
        )
    return path


def check_system_programs() -> str:
    """Path of Chromium, after checking that Xvfb exists too (one-line error saying how to install)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    for name, found in (("chromium", chromium), ("Xvfb", shutil.which("Xvfb"))):
        if found is None:
            raise DependencyError(f"Derk's Gym needs {name}, which is not installed: {INSTALL_HINT}")
    assert chromium is not None
    return chromium


def resolve_webgl(choice: str) -> str:
    """The WebGL backend for ``choice``: ``auto`` is Mesa's llvmpipe where Mesa's EGL is installed, else
    Chromium's SwiftShader. The game simulates every arena in WebGL shaders, so this sets its speed
    (``docs/ppo.md``: llvmpipe steps about twice as fast on this project's 2-core machine)."""
    mesa = ctypes.util.find_library("EGL_mesa") is not None
    if choice == "auto":
        return "llvmpipe" if mesa else "swiftshader"
    if choice == "llvmpipe" and not mesa:
        raise DependencyError(
            f"--derk-webgl llvmpipe needs Mesa's EGL, which is not installed: apt-get install -y {MESA_PACKAGES} "
            "(as root), or pass --derk-webgl swiftshader"
        )
    return choice


def cache_dir() -> Path:
    """Where the patched app bundle and browser profiles live (``$GAMERL_CACHE`` or ``~/.cache/gamerl``)."""
    return Path(os.environ.get("GAMERL_CACHE", Path.home() / ".cache" / "gamerl")) / "derk-1.1.1"


def group_processes(pgid: int) -> Iterator[tuple[int, list[str]]]:
    """``(pid, fields)`` of each process in process group ``pgid``, read from ``/proc/<pid>/stat``:
    ``fields`` are the stat fields after the command name (``fields[0]`` the state, ``fields[11]`` and
    ``fields[12]`` the user and system clock ticks; see proc(5))."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            group = int(fields[2])
        except (OSError, IndexError, ValueError):
            continue  # exited while we looked
        if group == pgid:
            yield int(stat.parent.name), fields


def _group_alive(pgid: int) -> bool:
    """Whether process group ``pgid`` still has a process that is not a zombie (read from /proc)."""
    return any(fields[0] != "Z" for _, fields in group_processes(pgid))


def _pack(array: np.ndarray) -> tuple[str, tuple[int, ...], bytes]:
    array = np.ascontiguousarray(array)
    return (array.dtype.str, array.shape, array.tobytes())


def _unpack(packed: tuple[str, tuple[int, ...], bytes]) -> np.ndarray:
    dtype, shape, data = packed
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


class DerkProcess:
    """One worker process (and its Xvfb and Chromium) in a process group of its own.

    It owns the browser profile (``chromedata.*`` in the cache dir) and deletes it once the whole group
    is gone, however the worker ended: a worker killed for a crash or hang never cleans up after itself,
    and Chromium's dying helpers still write into the profile after the browser closes.
    """

    def __init__(self, options: dict[str, Any], timeout: float) -> None:
        """Start the worker and the game; raises :class:`DerkBrowserError` if start-up fails or hangs."""
        self.timeout = timeout
        cache = cache_dir()
        cache.mkdir(parents=True, exist_ok=True)
        command = [str(derk_python()), str(Path(__file__).with_name("derk_worker.py"))]  # may fail: make nothing first
        self.log = tempfile.NamedTemporaryFile(prefix="worker.", suffix=".log", dir=cache, delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, start_new_session=True
        )
        self.profile = Path(tempfile.mkdtemp(prefix="chromedata.", dir=cache))
        try:
            self.info: dict[str, Any] = self.request(
                "start", {**options, "cache_dir": str(cache), "profile": str(self.profile), "timeout": timeout}
            )
        except BaseException:
            self.kill()
            raise

    def request(self, command: str, *args: Any, timeout: float | None = None) -> Any:
        """Send one request and wait (at most ``timeout`` s) for its reply."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            pickle.dump((command, *args), self.proc.stdin, protocol=4)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise DerkBrowserError(f"the Derk worker died before '{command}' ({self.log_tail()})") from None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout or self.timeout)
        if not ready:
            self.kill()
            raise DerkBrowserError(
                f"the Derk browser hung: no answer to '{command}' in {timeout or self.timeout:.0f} s "
                "(raise --derk-timeout-s on a slow machine)"
            )
        try:
            status, payload = pickle.load(self.proc.stdout)
        except (EOFError, pickle.UnpicklingError):
            self.kill()
            raise DerkBrowserError(f"the Derk worker died during '{command}' ({self.log_tail()})") from None
        if status != "ok":
            self.kill()
            raise DerkBrowserError(f"the Derk game failed during '{command}': {payload}")
        return payload

    def log_tail(self) -> str:
        """Last line of the worker's log, for error messages."""
        lines = Path(self.log.name).read_text(errors="replace").strip().splitlines()
        return lines[-1][:200] if lines else f"log: {self.log.name}"

    def alive(self) -> bool:
        """Whether the worker process still runs."""
        return self.proc.poll() is None

    def close(self) -> None:
        """Ask the worker to close the game; kill its process group if it does not within the timeout."""
        if self.alive():
            try:
                self.request("close", timeout=min(self.timeout, 30.0))
                self.proc.wait(10)
            except (DerkBrowserError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def kill(self, wait_s: float = 10.0) -> None:
        """Kill the worker's process group (worker, Chromium, Xvfb) by its id and clean up.

        The browser profile is deleted once no process of the group is left (at most ``wait_s``).
        """
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
        deadline = time.monotonic() + wait_s
        while _group_alive(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.profile, ignore_errors=True)


@dataclasses.dataclass(frozen=True)
class DerkSettings:
    """What a Derk game is made of."""

    n_arenas: int = 1
    reward: str = "offensive"
    """preset name or TOML file (see :mod:`gamerl.envs.derk_rewards`)"""
    team_items: str | None = None
    """None or 'random' = random items per game; else 'arms,misc,tail;…' for both teams"""
    opponent_items: str | None = None
    """the away team's items, if not as ``team_items``: 'random' (per game) or 'arms,misc,tail;…'"""
    turbo: bool = True
    """skip drawing (training); False draws the arenas (video)"""
    timeout_s: float = 180.0
    restarts: int = 2
    webgl: str = "auto"
    """where the game's WebGL shaders run (see :func:`resolve_webgl`): auto, llvmpipe or swiftshader"""

    def __post_init__(self) -> None:
        if self.n_arenas < 1:
            raise ConfigError(f"n_arenas must be >= 1, got {self.n_arenas}: pass --num-envs 2")
        if self.webgl not in WEBGL_CHOICES:
            raise ConfigError(f"webgl must be one of {', '.join(WEBGL_CHOICES)}, got {self.webgl!r}")


class DerkBatch:
    """All arenas as arrays: observations ``(6 * n_arenas, 64)``, actions ``(6 * n_arenas, 5)``.

    Rows are ordered side first, as gym-derk lays them out: the home teams of every arena, then the
    away teams; agent ``s`` of team ``t`` (0 home, 1 away) in arena ``a`` is row
    :func:`row` ``= 3 n_arenas t + 3 a + s``. A game lasts :data:`STEPS_PER_GAME` steps and ends in
    every arena at once.
    """

    def __init__(self, settings: DerkSettings) -> None:
        chromium = check_system_programs()
        team = parse_team_items(settings.team_items)
        away = team if settings.opponent_items is None else parse_team_items(settings.opponent_items, "opponent_items")
        self.settings = settings
        self.n_arenas = settings.n_arenas
        self.n_agents = 6 * settings.n_arenas
        self.restarts_left = settings.restarts
        self.restarts = 0
        self._options = {
            "n_arenas": settings.n_arenas,
            "reward_function": load_reward(settings.reward),
            "turbo": settings.turbo,
            "home_team": team,
            "away_team": away,
            "chromium": chromium,
            "webgl": resolve_webgl(settings.webgl),
        }
        if settings.webgl == "auto" and self._options["webgl"] == "swiftshader":
            print(
                "gamerl: note: Mesa's EGL is not installed, so Derk's WebGL runs on Chromium's SwiftShader, about "
                f"half as fast as on Mesa's llvmpipe: apt-get install -y {MESA_PACKAGES}",
                file=sys.stderr,
            )
        self._process: DerkProcess | None = self._start()

    def _start(self) -> DerkProcess:
        """A new worker and game, checked to run its WebGL on the chosen backend."""
        webgl = self._options["webgl"]
        try:
            process = DerkProcess(self._options, self.settings.timeout_s)
        except DerkBrowserError as err:
            if webgl != "llvmpipe":
                raise
            raise DerkBrowserError(
                f"{err}; if WebGL cannot start on Mesa's llvmpipe here, pass --derk-webgl swiftshader"
            ) from None
        renderer = str(process.info["renderer"])
        if WEBGL_RENDERER[webgl] not in renderer:
            process.close()
            if webgl == "llvmpipe":
                fix = f"install Mesa's EGL (apt-get install -y {MESA_PACKAGES}) or pass --derk-webgl swiftshader"
            else:
                fix = "check 'chromium --version', or pass --derk-webgl llvmpipe"
            raise DerkBrowserError(f"Chromium's WebGL started on '{renderer}', not on {webgl}: {fix}")
        return process

    @property
    def pids(self) -> dict[str, int]:
        """Process ids of the worker, its Chromium and its Xvfb."""
        assert self._process is not None
        return {
            "worker": self._process.proc.pid,
            "chromium": self._process.info["chromium_pid"],
            "xvfb": self._process.info["xvfb_pid"],
        }

    @property
    def renderer(self) -> str:
        """The page's WebGL renderer, e.g. ``'… llvmpipe (LLVM 15.0.6 256 bits) …'``."""
        assert self._process is not None
        return str(self._process.info["renderer"])

    def _call(self, command: str, *args: Any) -> Any:
        if self._process is None:
            raise DerkBrowserError("the Derk game is closed")
        return self._process.request(command, *args)

    def reset(self) -> np.ndarray:
        """New games in every arena; observations ``(6 * n_arenas, 64)`` float32."""
        return _unpack(self._call("reset"))

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, np.ndarray | None]:
        """Apply ``(6 * n_arenas, 5)`` actions → (obs, rewards ``(6 n,)``, games over, team stats or None).

        Team stats, when the games end: ``(2 * n_arenas, 5)``, home teams then away teams, columns
        ``Reward, OpponentReward, Hitpoints, AliveTime, CumulativeHitpoints``.
        """
        if actions.shape != (self.n_agents, 5):
            raise ValueError(f"actions must be ({self.n_agents}, 5), got {actions.shape}")
        obs, rewards, done, stats = self._call("step", _pack(actions.astype(np.float32)))
        if done:  # a whole game played: the browser works, so its restarts are counted afresh
            self.restarts_left = self.settings.restarts
        return _unpack(obs), _unpack(rewards), done, None if stats is None else _unpack(stats)

    def restart(self, reason: str) -> np.ndarray:
        """After a crash or hang (``reason``): start a new worker and game if restarts are left (``restarts``
        in a row, without a finished game in between); first observations."""
        if self._process is not None:
            self._process.kill()
            self._process = None
        if self.restarts_left <= 0:
            raise DerkBrowserError(
                f"the Derk browser failed again after {self.settings.restarts} restarts in a row ({reason}): "
                "see the worker log, check 'chromium --version', and resume with --resume RUN_DIR"
            )
        self.restarts_left -= 1
        self.restarts += 1
        print(f"gamerl: note: restarting the Derk browser ({reason}); the games in progress are cut", file=sys.stderr)
        self._process = self._start()
        return self.reset()

    def frame(self) -> np.ndarray:
        """The page as the game draws it: ``(H, W, 3)`` uint8 (start with ``turbo=False`` to see arenas)."""
        import io

        from PIL import Image

        png = self._call("frame")
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))

    def close(self) -> None:
        """Stop the game, its browser and Xvfb."""
        if self._process is not None:
            self._process.close()
            self._process = None

    def __enter__(self) -> DerkBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DerkParallelEnv(ParallelEnv):
    """Derk's Gym as a PettingZoo ``ParallelEnv``: every derkling of both teams in every arena.

    Agents are named ``arena{a}_team{t}_slot{s}`` (team 0 is home). Actions follow :func:`action_space`.
    A game ends for everyone after 150 steps (terminations). If the browser crashes or hangs, it is
    restarted and the game is cut short (truncations, ``infos[agent]["restarted"] = True``); when no
    restarts are left, :class:`DerkBrowserError` is raised. The game starts on the first ``reset``.
    """

    metadata = {"name": "derk_v0", "render_modes": ["rgb_array"], "is_parallelizable": True}

    def __init__(self, settings: DerkSettings | None = None, render_mode: str | None = None) -> None:
        self.settings = settings or DerkSettings()
        self.render_mode = render_mode
        n = self.settings.n_arenas
        self.possible_agents = [f"arena{a}_team{t}_slot{s}" for t in range(2) for a in range(n) for s in range(3)]
        self.agents: list[str] = []
        self._rows = {name: i for i, name in enumerate(self.possible_agents)}  # side-first, as gym-derk
        self._obs_space = spaces.Box(-1.0, 1.0, (OBS_SIZE,), np.float32)
        self._act_space = action_space()
        self._batch: DerkBatch | None = None

    def observation_space(self, agent: str) -> spaces.Space:
        """64 game senses in [-1, 1] (gym-derk's ``ObservationKeys``)."""
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Space:
        """See :func:`action_space`."""
        return self._act_space

    def _dicts(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        return {name: np.clip(obs[i], -1.0, 1.0) for name, i in self._rows.items()}

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """New games in every arena (``seed`` seeds the action samplers; the game draws its own items)."""
        if seed is not None:
            self._act_space.seed(seed)
        if self._batch is None:
            self._batch = DerkBatch(self.settings)
        self.agents = list(self.possible_agents)
        return self._dicts(self._batch.reset()), {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """One step of every living agent; missing agents do nothing (all zeros)."""
        assert self._batch is not None, "call reset() first"
        array = np.zeros((len(self.possible_agents), 5), dtype=np.float32)
        for name, action in actions.items():
            array[self._rows[name]] = [float(np.asarray(x)) for x in action]
        restarted = False
        try:
            obs, rewards, done, _ = self._batch.step(array)
        except DerkBrowserError as err:
            obs, rewards, done, restarted = (
                self._batch.restart(str(err)),
                np.zeros(len(array), np.float32),
                False,
                True,
            )
        agents = self.agents
        self.agents = [] if done or restarted else agents
        return (
            {a: o for a, o in self._dicts(obs).items() if a in agents},
            {a: float(rewards[self._rows[a]]) for a in agents},
            {a: bool(done) for a in agents},
            {a: restarted for a in agents},
            {a: {"restarted": True} if restarted else {} for a in agents},
        )

    def render(self) -> np.ndarray | None:
        """The page as drawn (needs ``DerkSettings(turbo=False)`` to show the arenas)."""
        return None if self._batch is None else self._batch.frame()

    def close(self) -> None:
        """Stop the game, its browser and Xvfb."""
        if self._batch is not None:
            self._batch.close()
            self._batch = None
