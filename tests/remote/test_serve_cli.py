"""`python -m eraser serve` as a person starts it: in its own process, on 127.0.0.1."""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from eraser import engines
from eraser.errors import RemoteError
from eraser.remote import RemoteEraser
from tests.support import ROOT, free_port
from tests.support.remote import scene

# Each test starts `python -m eraser serve` in a process of its own: the slow tier.
pytestmark = pytest.mark.slow

START_TIMEOUT = 20.0


def _serve(tmp_path, keys: str | None, **settings: str):
    """`serve` started in tmp_path with these ERASER_* settings (and keys); (process, origin, output
    until it listens)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ERASER_", "AILAB_"))}
    env.update(PYTHONPATH=str(ROOT), ERASER_RESULT_DIR=str(tmp_path / "results"), ERASER_ENGINE="telea", **settings)
    if keys is not None:
        env["ERASER_API_KEYS"] = keys
    process = subprocess.Popen([sys.executable, "-m", "eraser", "serve", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    lines: queue.Queue[str] = queue.Queue()
    # A reader thread, so a server that hangs silently cannot block the test past the deadline.
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    seen = []
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and not any("Uvicorn running" in line for line in seen):
        try:
            seen.append(lines.get(timeout=0.1))
        except queue.Empty:
            if process.poll() is not None:
                break
    return process, f"http://127.0.0.1:{port}", "".join(seen)


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(keys):
        started.append(_serve(tmp_path, keys))
        return started[-1]

    yield start
    for process, _, _ in started:
        process.terminate()
        process.wait(START_TIMEOUT)


def test_without_keys_it_makes_one_and_accepts_only_that(serve):
    process, origin, output = serve(None)
    found = re.search(r"accepts only the key (\S+)", output)
    assert found, output
    assert requests.get(origin + "/health", timeout=10).json()["status"] == "ok"
    result = RemoteEraser(found.group(1), origin, backoff=0.01, allow_local=True).erase(*scene())
    assert result.photo.size == (160, 120)
    with pytest.raises(RemoteError) as caught:
        RemoteEraser("guess", origin, backoff=0.01, allow_local=True).erase(*scene())
    assert caught.value.status == 401


def test_with_keys_it_prints_none_of_them(serve):
    process, origin, output = serve("alpha-key-123,beta-key-456")
    assert "Uvicorn running on http://127.0.0.1" in output
    assert "alpha-key-123" not in output and "beta-key-456" not in output
    assert RemoteEraser("beta-key-456", origin, backoff=0.01, allow_local=True).erase(*scene()).attempts == 1


def test_other_commands_do_not_load_the_server():
    code = ("import sys; from eraser.cli import main; main(['engines']); "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "[]", done.stderr


@pytest.mark.parametrize(
    "args, words",
    [(["--port", "99999"], "port must be between 1 and 65535, not 99999"),
     (["--port", "busy"], "Cannot listen on 127.0.0.1:"),
     (["--host", "no-such-host.invalid"], "Cannot listen on no-such-host.invalid:8000")],
)
def test_a_port_or_host_it_cannot_use_is_one_error_line(tmp_path, args, words):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        args = [str(taken.getsockname()[1]) if a == "busy" else a for a in args]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "ERASER_API_KEYS": "k"}
        done = subprocess.run([sys.executable, "-m", "eraser", "serve", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("error:") and words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_an_unknown_engine_stops_serve_at_once(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ERASER_API_KEYS": "k", "ERASER_ENGINE": "foo"}
    done = subprocess.run([sys.executable, "-m", "eraser", "serve", "--port", "1"], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"error: ERASER_ENGINE must be one of {', '.join(engines.names())}, not 'foo'.\n"
