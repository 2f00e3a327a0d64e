"""Derk's Gym for real: Chromium under Xvfb, a few steps each (start-up is ~10 s per game)."""

import dataclasses
import json
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test
from PIL import Image, ImageSequence

from gamerl.algorithms.ppo.derk_agents import DerkAgents
from gamerl.algorithms.ppo.evaluate import evaluate_ppo, record_ppo
from gamerl.algorithms.ppo.opponents import RandomTeam
from gamerl.algorithms.ppo.train import train_ppo
from gamerl.config.ppo import PPOConfig
from gamerl.envs import derk
from gamerl.envs.derk import DerkBatch, DerkBrowserError, DerkParallelEnv, DerkSettings, derk_python
from gamerl.errors import ConfigError, DependencyError


def _available() -> bool:
    try:
        derk_python()
    except DependencyError:
        return False
    return shutil.which("chromium") is not None and shutil.which("Xvfb") is not None


pytestmark = pytest.mark.skipif(
    not _available() and not os.environ.get("CI"),
    reason="Derk needs chromium, Xvfb and .venv-derk (bash scripts/setup.sh as root); CI always runs it",
)


def _gone(pid: int, wait_s: float = 10.0) -> bool:
    """Whether ``pid`` has exited (or is a zombie) within ``wait_s`` (SIGKILL is delivered asynchronously)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def _profile(chromium_pid: int) -> Path:
    """The browser profile a running Chromium was started with (its ``--user-data-dir``).

    Checks that Chromium's socket folder (``/tmp/org.chromium.Chromium.*`` by default, which a killed
    browser leaves behind) lies inside the profile, so it goes when the profile does.
    """
    args = Path(f"/proc/{chromium_pid}/cmdline").read_bytes().decode().split("\0")
    profile = Path(next(a for a in args if a.startswith("--user-data-dir=")).split("=", 1)[1])
    assert Path(os.readlink(profile / "SingletonSocket")).is_relative_to(profile)
    return profile


def test_parallel_api() -> None:
    env = DerkParallelEnv(DerkSettings(n_arenas=1))
    try:
        parallel_api_test(env, num_cycles=3)
        assert env.possible_agents[:3] == ["arena0_team0_slot0", "arena0_team0_slot1", "arena0_team0_slot2"]
        assert len(env.possible_agents) == 6
    finally:
        env.close()


def test_reward_preset_changes_the_rewards() -> None:
    # standing still at home: the game pays time-spent rewards every ~37 steps (5 s of game time);
    # the defensive preset pays for time at home, the offensive one does not. Both games run side by side.
    with (
        DerkBatch(DerkSettings(reward="defensive")) as defensive,
        DerkBatch(DerkSettings(reward="offensive")) as offensive,
    ):
        batches = {"defensive": defensive, "offensive": offensive}
        profiles = [_profile(batch.pids["chromium"]) for batch in batches.values()]
        for batch in batches.values():
            batch.reset()
        totals = dict.fromkeys(batches, 0.0)
        for _ in range(38):
            for name, batch in batches.items():
                totals[name] += float(batch.step(np.zeros((6, 5), np.float32))[1].sum())
    assert totals["defensive"] > 0 and totals["offensive"] == 0
    # closed: no browser profile left (Chromium's helpers used to write into it after the browser closed)
    assert all(p.name.startswith("chromedata.") and not p.exists() for p in profiles)


def test_each_webgl_backend_plays_and_is_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    for webgl, renderer in (("llvmpipe", "llvmpipe"), ("swiftshader", "SwiftShader")):
        with DerkBatch(DerkSettings(n_arenas=1, webgl=webgl)) as batch:
            assert renderer in batch.renderer
            batch.reset()
            obs, rewards, done, _ = batch.step(np.zeros((6, 5), np.float32))
            assert obs.shape == (6, 64) and np.isfinite(obs).all() and not done
    # Mesa's EGL out of Chromium's reach: the page never loads; the hang's one line says what to pass
    monkeypatch.setenv("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/50_mesa.json")
    with pytest.raises(DerkBrowserError, match="hung: no answer to 'start' .* pass --derk-webgl swiftshader$"):
        DerkBatch(DerkSettings(n_arenas=1, webgl="llvmpipe", timeout_s=25))
    monkeypatch.delenv("__EGL_VENDOR_LIBRARY_FILENAMES")
    # a backend that starts but is not the one asked for (as after a Chromium upgrade): one line at start
    monkeypatch.setitem(derk.WEBGL_RENDERER, "swiftshader", "llvmpipe")
    with pytest.raises(DerkBrowserError, match="WebGL started on '.*SwiftShader.*', not on swiftshader"):
        DerkBatch(DerkSettings(n_arenas=1, webgl="swiftshader"))


def _gpu_process(worker_pid: int) -> int:
    """Process id of the Chromium GPU process in the worker's process group (where WebGL runs)."""
    for pid, _ in derk.group_processes(worker_pid):
        try:
            if b"--type=gpu-process" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except (FileNotFoundError, ProcessLookupError):
            continue
    raise AssertionError("no GPU process in the Derk worker's group")


def test_a_crashed_gpu_process_ends_the_step_at_once_and_the_browser_restarts(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # the page's WebGL context is lost when Chromium's GPU process dies, and the game would wait forever
    batch = DerkBatch(DerkSettings(n_arenas=1, timeout_s=120, restarts=1))
    agents = DerkAgents(batch, RandomTeam(0))
    try:
        agents.reset()
        agents.step(np.zeros((3, 5)))
        os.kill(_gpu_process(batch.pids["worker"]), signal.SIGKILL)
        start = time.monotonic()
        result = agents.step(np.zeros((3, 5)))
        assert time.monotonic() - start < 60  # the restart's start-up, not the 120 s timeout of a hang
        assert result.dones.all() and agents.restarts == 1
        assert "restarting the Derk browser (the Derk game failed during 'step': RuntimeError: the page lost its" in (
            capfd.readouterr().err
        )
        while not agents.step(np.zeros((3, 5))).episodes:  # the new game plays on to its end
            pass
        os.kill(_gpu_process(batch.pids["worker"]), signal.SIGKILL)  # a game since the last restart: one more
        assert agents.step(np.zeros((3, 5))).dones.all() and agents.restarts == 2
    finally:
        agents.close()


def test_killed_browser_is_restarted_and_a_hung_one_reported() -> None:
    batch = DerkBatch(DerkSettings(n_arenas=1, timeout_s=20, restarts=1))
    agents = DerkAgents(batch, RandomTeam(0))
    first = dict(batch.pids)
    profiles = [_profile(first["chromium"])]
    try:
        obs = agents.reset()
        agents.step(np.zeros((3, 5)))
        os.kill(first["chromium"], signal.SIGKILL)
        result = agents.step(np.zeros((3, 5)))
        assert result.dones.all() and agents.restarts == 1 and result.obs.shape == obs.shape
        assert all(_gone(pid) for pid in first.values())
        second = dict(batch.pids)
        assert second["chromium"] != first["chromium"]
        profiles.append(_profile(second["chromium"]))
        assert not profiles[0].exists()  # the killed worker's profile: removed by the parent, not left behind
        agents.step(np.zeros((3, 5)))  # the new game plays on
        os.kill(second["chromium"], signal.SIGSTOP)  # a hung browser: no restart left → one clear error
        with pytest.raises(DerkBrowserError, match="failed again after 1 restarts"):
            agents.step(np.zeros((3, 5)))
        assert all(_gone(pid) for pid in second.values())
        assert not profiles[1].exists()
    finally:
        agents.close()


def test_tiny_ppo_run_on_derk_and_fine_tuning_against_it(tmp_path: Path) -> None:
    config = PPOConfig(
        env_id="Derk-v0",
        num_envs=2,
        num_steps=4,
        updates=2,
        policy_hidden=(32,),
        value_hidden=(32,),
        runs_dir=tmp_path,
        run_name="derk",
        progress=False,
        checkpoint_every=1,
    )
    run_dir = train_ppo(config)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [24, 48]
    for head in ("move_x", "rotate", "chase_focus", "cast_slot", "focus"):
        assert 0 < records[-1][f"train/entropy/{head}"] <= np.log(9) + 1e-6
    # the report's workflow: new reward, from the trained weights, against a frozen model
    tuned = train_ppo(
        dataclasses.replace(
            config,
            run_name="tuned",
            updates=1,
            reward="defensive",
            init_from=run_dir,
            opponent="checkpoint",
            opponent_checkpoint=run_dir / "checkpoints" / "model_000001.pt",
        )
    )
    assert (tuned / "checkpoints" / "model_000001.pt").is_file()
    # one game in each arena with both teams' items fixed: scored, and kept apart from the random-items results
    with pytest.raises(ConfigError, match="team_items needs 3 derklings"):
        evaluate_ppo(tuned, episodes=2, team_items="Pistol,,")
    evaluate_ppo(tuned, episodes=2, team_items="Pistol,,;Talons,,;Blaster,,")
    saved = json.loads((tuned / "eval" / "results_random_score_fixed_items_sampled_update1_seed12345.json").read_text())
    assert saved["team_items"] == "Pistol,,;Talons,,;Blaster,," and len(saved["games"]) == 2
    # each game records the items both teams drew, read from the game's observations
    for game in saved["games"]:
        assert game["items"] == game["opponent_items"] == "Pistol,,;Talons,,;Blaster,,"
        assert game["armed"] == game["opponent_armed"] == 3 and game["draw"] == "ranged"
    # the home team's items fixed, the away team's drawn by the game: a results file of its own
    evaluate_ppo(tuned, episodes=2, team_items="Pistol,,;Talons,,;Blaster,,", opponent_items="random")
    name = "results_random_score_fixed_items_opponent_random_items_sampled_update1_seed12345.json"
    saved = json.loads((tuned / "eval" / name).read_text())
    assert saved["opponent_items"] == "random"
    for game in saved["games"]:
        assert game["items"] == "Pistol,,;Talons,,;Blaster,," != game["opponent_items"]
    # a video of the fine-tuned team against the frozen model it trained against, both teams' items fixed
    loadout = "Pistol,,;Talons,,;Blaster,,"
    match = {"opponent": "checkpoint", "opponent_checkpoint": run_dir, "team_items": loadout}
    with Image.open(record_ppo(tuned, tmp_path / "match.gif", max_steps=3, **match)) as gif:  # type: ignore[arg-type]
        # 3 steps at 10 frames/s (Pillow merges a repeated frame into the one before it, adding up durations)
        assert sum(frame.info["duration"] for frame in ImageSequence.Iterator(gif)) == 300 and gif.size[0] > 100
