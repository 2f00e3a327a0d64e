"""Genesis games through stable-retro: the seed's Sonic button set, frame skip, Retro Contest levels.

One emulator per process (a stable-retro limit): make one env per worker process. Sonic ROMs are not
distributed; the user imports theirs with ``python -m stable_retro.import DIR``. ``Airstriker-Genesis-v0``
ships with stable-retro and is the Genesis game the tests use.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from gamerl.envs.wrappers import ButtonSubset, StickyFrameSkip, Turbo
from gamerl.errors import DependencyError, EnvNotFoundError

SONIC_BUTTONS = ("LEFT", "RIGHT", "DOWN", "B")
"""the seed's independent buttons; UP is useless and A and C do what B does"""

CONTEST_STICKY_PROB = 0.25
"""the contest's sticky frame skip: probability that the previous action lasts one more frame"""

TURBO_BUTTONS = {"Airstriker-Genesis-v0": ("B",)}
"""buttons on turbo per game: Airstriker fires once per press of B (measured: a held B fires once, B pressed
every other step of 4 frames fires continuously), so a held B is turned into presses"""

SONIC_GAMES = ("SonicTheHedgehog-Genesis-v0", "SonicTheHedgehog2-Genesis-v0", "SonicAndKnuckles3-Genesis-v0")

CONTEST_VALIDATION = {
    "SonicTheHedgehog-Genesis-v0": (
        "SpringYardZone.Act1",
        "GreenHillZone.Act2",
        "StarLightZone.Act3",
        "ScrapBrainZone.Act1",
    ),
    "SonicTheHedgehog2-Genesis-v0": ("MetropolisZone.Act3", "HillTopZone.Act2", "CasinoNightZone.Act2"),
    "SonicAndKnuckles3-Genesis-v0": (
        "LavaReefZone.Act1",
        "FlyingBatteryZone.Act2",
        "HydrocityZone.Act1",
        "AngelIslandZone.Act2",
    ),
}
"""the Retro Contest's held-out test levels"""


def _retro() -> Any:
    try:
        import stable_retro
    except ImportError:
        raise DependencyError(
            "Genesis games need stable-retro: pip install 'gamerl[worldmodels]' (or stable-retro==1.0.1)"
        ) from None
    return stable_retro


def game_levels(game: str) -> tuple[str, ...]:
    """Every save state (level) stable-retro ships for ``game``, sorted."""
    return tuple(sorted(_retro().data.list_states(game)))


def contest_levels(split: str) -> list[tuple[str, str]]:
    """(game, level) pairs of the Retro Contest ``split``: ``"train"`` (47) or ``"validation"`` (11)."""
    if split not in ("train", "validation"):
        raise EnvNotFoundError(f"unknown contest split '{split}': choose 'train' or 'validation'")
    pairs = []
    for game in SONIC_GAMES:
        held_out = CONTEST_VALIDATION[game]
        levels = held_out if split == "validation" else tuple(s for s in game_levels(game) if s not in held_out)
        pairs += [(game, level) for level in levels]
    return pairs


def check_rom(game: str) -> None:
    """Raise a one-line :class:`DependencyError` when ``game``'s ROM has not been imported."""
    retro = _retro()
    if game not in retro.data.list_games():
        raise EnvNotFoundError(f"stable-retro has no game '{game}': see python -c 'import stable_retro; ...'")
    try:
        retro.data.get_romfile_path(game)
    except FileNotFoundError:
        raise DependencyError(
            f"the ROM of {game} is not imported: run 'python -m stable_retro.import DIR' "
            "on a folder holding your own copy of the game"
        ) from None


def make_retro(
    game: str,
    level: str | None = None,
    frame_skip: int = 4,
    buttons: tuple[str, ...] = SONIC_BUTTONS,
    render_mode: str | None = None,
    turbo: bool = True,
    sticky_prob: float = 0.0,
    rng: np.random.Generator | None = None,
) -> gym.Env[Any, Any]:
    """A Genesis ``game`` at save state ``level`` (default: the game's own),
    actions ``MultiBinary(len(buttons))``, the game's :data:`TURBO_BUTTONS` on turbo unless ``not turbo``.

    ``sticky_prob`` > 0 makes the frame skip the Retro Contest's sticky one (:class:`StickyFrameSkip`,
    drawing from ``rng``, re-seeded by ``reset(seed=...)``): the emulator itself has no randomness, so
    without it every episode under a deterministic policy is the same.

    Observations are ``(224, 320, 3)`` uint8 RGB; each action lasts ``frame_skip`` emulator frames. Sonic
    games use the contest scenario (horizontal progress reward + completion bonus). Only one retro env can
    live in a process at a time.
    """
    retro = _retro()
    check_rom(game)
    scenario = "contest" if game in SONIC_GAMES else None
    state = level if level is not None else retro.State.DEFAULT
    env = retro.make(game, state=state, scenario=scenario, render_mode=render_mode)
    env = ButtonSubset(env, list(env.unwrapped.buttons), buttons)
    env = StickyFrameSkip(env, frame_skip, sticky_prob, rng if rng is not None else np.random.default_rng())
    turbo_buttons = TURBO_BUTTONS.get(game, ()) if turbo else ()
    return Turbo(env, [buttons.index(b) for b in turbo_buttons]) if turbo_buttons else env


def set_level(env: gym.Env[Any, Any], level: str) -> None:
    """Switch a retro env to save state ``level``; it takes effect at the next ``reset()``."""
    env.unwrapped.load_state(level)
