"""What the benchmarks and the tests run the app and the server with: a free local port,
`streamlit run` on it, Debian Chromium, and a stand-in for the drawing canvas under AppTest.
Kept here (tests import it from bench, never the other way) so the benchmarks run from a
checkout on their own."""

from __future__ import annotations

import contextlib
import io
import socket
import subprocess
import sys
import time
import types
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer within {seconds:.0f} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def running_app(log: Path, seconds: float = 60,
                env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run app.py` on a free 127.0.0.1 port, once it answers: yields its URL and process.
    `env`: the server's whole environment (None: this process's)."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"]
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log, seconds)
        yield url, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def launch_chromium(playwright):
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`.")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


class Canvas:
    """Stands in for streamlit_drawable_canvas under AppTest (its component needs a browser).

    Records each call's arguments. Like the real CanvasResult, image_data is None until something
    is drawn and then an RGBA array at the canvas's display size; drawings belong to a canvas key,
    so a new key is empty. Like the real one, a canvas with a drawing has its state in
    st.session_state under its key (a test deletes it there to act out what leaving the page does).
    """

    def __init__(self):
        self.calls: list[dict] = []
        self.drawings: dict[str, list[tuple[float, float, float, float]]] = {}

    @property
    def key(self) -> str:
        return self.calls[-1]["key"]

    def paint(self, box=(0.4, 0.4, 0.6, 0.6)):
        """Mark a box on the current canvas, in fractions of its width and height."""
        self.drawings.setdefault(self.key, []).append(box)

    def wipe(self):
        """What the canvas toolbar's reset sends: a drawing with nothing on it."""
        self.drawings[self.key] = []

    def module(self) -> types.ModuleType:
        """A module to put in sys.modules["streamlit_drawable_canvas"] before the page imports it."""
        module = types.ModuleType("streamlit_drawable_canvas")
        module.st_canvas = self.st_canvas
        return module

    def st_canvas(self, **kwargs):
        import streamlit as st  # here: the server benchmarks use this module without streamlit

        # When the page drew it, and the process's CPU time by then (all its threads).
        self.calls.append({**kwargs, "at": time.perf_counter(), "cpu": time.process_time()})
        boxes = self.drawings.get(kwargs["key"])
        if boxes is None:
            return types.SimpleNamespace(image_data=None, image_bytes=None, json_data=kwargs.get("initial_drawing"))
        width, height = kwargs["width"], kwargs["height"]
        rgba = np.zeros((height, width, 4), np.uint8)
        for x0, y0, x1, y1 in boxes:
            rgba[round(y0 * height) : round(y1 * height), round(x0 * width) : round(x1 * width)] = (255, 40, 80, 115)
        png = io.BytesIO()
        Image.fromarray(rgba).save(png, "PNG")
        json_data = {"objects": [{"box": box} for box in boxes]}
        st.session_state[kwargs["key"]] = {"drawing": {"raw": json_data}}
        return types.SimpleNamespace(image_data=rgba, image_bytes=png.getvalue(), json_data=json_data)
