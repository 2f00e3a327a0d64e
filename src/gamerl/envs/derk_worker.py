"""Derk's Gym worker: runs in its own interpreter (``.venv-derk``: gym-derk 1.1.1, numpy<2, gym 0.26).

Started by :mod:`gamerl.envs.derk` in a new session, it owns one Xvfb and one Chromium and answers
requests read from stdin with replies on stdout, both as pickled tuples of plain Python values (arrays
travel as ``(dtype, shape, bytes)`` so the two NumPy major versions never unpickle each other's
arrays). It imports nothing from gamerl: this file is run by path.

Requests: ``("start", options)``, ``("reset",)``, ``("step", actions)``, ``("frame",)``, ``("close",)``.
Replies: ``("ok", payload)`` or ``("error", one-line message)``.
"""

import os
import pickle
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WEBGL_ARGS = {
    "llvmpipe": ["--use-gl=angle", "--use-angle=gl-egl"],
    "swiftshader": ["--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
}
"""Chromium flags per WebGL backend: the game simulates its arenas in WebGL shaders, run on the CPU by Mesa's
llvmpipe (through the system's EGL) or by Chromium's own SwiftShader"""
CHROME_ARGS = [
    "--ignore-gpu-blocklist",
    "--disable-gpu-sandbox",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
WEB_FONT_IMPORT = re.compile(rb"@import url\(http[^)]*\);?")


def pack(array):
    """NumPy array → ``(dtype str, shape, bytes)``."""
    array = np.ascontiguousarray(array)
    return (array.dtype.str, array.shape, array.tobytes())


def unpack(packed):
    """``(dtype str, shape, bytes)`` → NumPy array."""
    dtype, shape, data = packed
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def patched_app(package_dir, cache_dir):
    """Copy gym-derk's app bundle to ``cache_dir`` without its web-font ``@import``s; return index.html."""
    target = Path(cache_dir) / "app_build"
    if not (target / "index.html").exists():
        tmp = Path(tempfile.mkdtemp(prefix="app_build.", dir=cache_dir))
        shutil.rmtree(tmp)
        shutil.copytree(Path(package_dir) / "app_build", tmp)
        for css in (tmp / "static" / "css").glob("*.css"):
            css.write_bytes(WEB_FONT_IMPORT.sub(b"", css.read_bytes()))
        try:
            tmp.rename(target)
        except OSError:  # another worker finished first
            shutil.rmtree(tmp, ignore_errors=True)
    return target / "index.html"


def start_xvfb(timeout):
    """Start Xvfb on a free display; return (process, display)."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    deadline = time.monotonic() + timeout
    data = b""
    os.set_blocking(read_fd, False)
    while not data.endswith(b"\n"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("Xvfb did not start (is the xvfb package installed?)")
        try:
            data += os.read(read_fd, 64)
        except BlockingIOError:
            time.sleep(0.05)
    os.close(read_fd)
    return proc, ":" + data.decode().strip()


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Worker:
    """One DerkEnv with its own Xvfb and Chromium."""

    def __init__(self):
        self.env = None
        self.xvfb = None
        self.pending = None  # the game's coroutine now running, as a task (see run)
        self.context_lost = False

    def start(self, options):
        """Start Xvfb, patch the app bundle and open a DerkEnv on the WebGL backend ``options["webgl"]``;
        return the process ids, the agent count and the page's WebGL renderer."""
        import gym_derk

        self.xvfb, display = start_xvfb(options["timeout"])
        os.environ["DISPLAY"] = display
        cache = Path(options["cache_dir"])
        cache.mkdir(parents=True, exist_ok=True)
        os.environ["DERK_APP_HOST"] = "file://" + str(patched_app(Path(gym_derk.__file__).parent, cache))
        profile = Path(options["profile"])  # made, and removed with all it holds, by the parent
        os.environ["DERK_CHROMEDATA"] = str(profile)
        (profile / "tmp").mkdir()
        os.environ["TMPDIR"] = str(profile / "tmp")  # Chromium's socket folders, left by a killed browser
        from gym_derk.envs import DerkEnv

        self.env = DerkEnv(
            n_arenas=options["n_arenas"],
            reward_function=options["reward_function"],
            turbo_mode=options["turbo"],
            home_team=options["home_team"],
            away_team=options["away_team"],
            app_args={
                "chrome_executable": options["chromium"],
                "chrome_args": WEBGL_ARGS[options["webgl"]] + CHROME_ARGS,
            },
            agent_server_args={"port": free_port()},
        )
        self.keep_nice()
        self.env.app.page.on("console", self.watch_console)
        return {
            "xvfb_pid": self.xvfb.pid,
            "chromium_pid": self.chromium_pid(),
            "n_agents": self.env.n_agents,
            "renderer": self.env.app.get_webgl_renderer(),
        }

    def watch_console(self, message):
        """End the running game call when the page loses its WebGL context: Chromium's GPU process crashed
        (llvmpipe's did twice in about 100 games of 128 arenas here), and the page's game would wait forever."""
        if "CONTEXT_LOST_WEBGL" in message.text:
            self.context_lost = True
            if self.pending is not None:
                self.pending.cancel()

    def run(self, coroutine):
        """Run one of the game's coroutines to its end; a lost WebGL context is an error at once."""
        import asyncio

        loop = asyncio.get_event_loop()
        self.pending = loop.create_task(coroutine)
        try:
            result = loop.run_until_complete(self.pending)
        except asyncio.CancelledError:
            result = None
        finally:
            self.pending = None
        if self.context_lost:
            raise RuntimeError("the page lost its WebGL context (Chromium's GPU process crashed)")
        return result

    def keep_nice(self):
        """Give the whole process group this worker's niceness: Chromium raises its own priority (to -8)."""
        os.setpriority(os.PRIO_PGRP, 0, os.getpriority(os.PRIO_PROCESS, 0))

    def chromium_pid(self):
        """Process id of the browser pyppeteer launched."""
        return self.env.app.browser.process.pid

    def check_browser(self):
        """Fail loudly when the browser process is gone."""
        if self.env.app.browser.process.poll() is not None:
            raise RuntimeError("Chromium exited")

    def reset(self):
        """New games in every arena; observations ``(6 * n_arenas, 64)``."""
        self.check_browser()
        self.keep_nice()
        obs = self.run(self.env.async_reset())
        if obs is None:
            raise RuntimeError("the game did not reset (browser disconnected)")
        return pack(np.asarray(obs, dtype=np.float32))

    def step(self, actions):
        """One step of every agent; team stats are sent when the games end."""
        self.check_browser()
        obs, reward, done, _ = self.run(self.env.async_step(unpack(actions)))
        finished = bool(all(done))
        stats = pack(np.asarray(self.env.team_stats, dtype=np.float32)) if finished else None
        return (
            pack(np.asarray(obs, dtype=np.float32)),
            pack(np.asarray(reward, dtype=np.float32)),
            finished,
            stats,
        )

    def frame(self):
        """A PNG screenshot of the page (all arenas as the game draws them)."""
        import asyncio

        return asyncio.get_event_loop().run_until_complete(self.env.app.page.screenshot({"type": "png"}))

    def close(self):
        """Close the game and browser, stop Xvfb."""
        env, xvfb = self.env, self.xvfb
        self.env = self.xvfb = None
        try:
            if env is not None:
                env.close()
        finally:
            if xvfb is not None:
                xvfb.terminate()
                xvfb.wait(10)


def main():
    """Serve requests until ``close`` or end of input."""
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # prints from libraries go to stderr, never into the protocol
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    requests = sys.stdin.buffer
    worker = Worker()
    try:
        while True:
            try:
                request = pickle.load(requests)
            except EOFError:
                return
            command, args = request[0], request[1:]
            try:
                reply = ("ok", getattr(worker, command)(*args))
            except Exception as err:  # noqa: BLE001 - reported to the parent, which decides
                reply = ("error", f"{type(err).__name__}: {err}".splitlines()[0][:300])
            pickle.dump(reply, protocol_out, protocol=4)
            protocol_out.flush()
            if command == "close":
                return
    finally:
        try:
            worker.close()
        except Exception:  # noqa: BLE001
            pass


if __name__ == "__main__":
    main()
