"""Fetching model files from a local HTTP server standing in for the model host: success, and
every way a download goes wrong, after which nothing that looks complete is left behind."""

import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from eraser import engines, models
from eraser.engines import learned
from eraser.errors import ModelError
from eraser.fetch import download
from tests.support import ROOT
from tests.support.model_host import pin
from tests.support.onnx_models import migan_like


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    return migan_like(tmp_path_factory.mktemp("host") / "m.onnx").read_bytes()


@pytest.fixture(scope="module")
def host(payload):
    """A model host on 127.0.0.1 whose paths each behave one way."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body, length = payload, len(payload)
            if self.path == "/missing":
                self.send_error(404)
                return
            if self.path == "/hang":  # headers never come
                release.wait(10)
                return
            if self.path == "/corrupt":
                body = bytes(reversed(payload))
            elif self.path == "/truncated":
                body = payload[: length // 2]  # and the connection closes early
            elif self.path == "/oversized":
                body = payload + b"\0" * 4096
                length = len(body)
            self.send_response(200)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()


def fetch(host, path, dest, payload, **options):
    return download(f"{host}{path}", dest / "model.onnx", size=len(payload),
                    sha256=hashlib.sha256(payload).hexdigest(), **options)


def test_a_good_download_lands_in_place_with_its_progress(host, payload, tmp_path):
    seen = []
    path = fetch(host, "/good", tmp_path, payload, progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == payload
    assert seen[-1] == (len(payload), len(payload)) and len(seen) >= 1
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


@pytest.mark.parametrize("path, message", [
    ("/corrupt", "is corrupt \\(its checksum does not match\\)"),
    ("/truncated", "stopped early|Could not download"),
    ("/missing", "the server answered HTTP 404"),
    ("/oversized", "is larger than the expected"),
    ("/hang", "Could not download model.onnx \\(ConnectionError|ReadTimeout"),
])
@pytest.mark.slow
def test_a_failed_download_says_why_and_leaves_nothing_behind(host, payload, tmp_path, path, message):
    start = time.monotonic()
    with pytest.raises(ModelError, match=message):
        fetch(host, path, tmp_path, payload, read_timeout=1.0)
    assert time.monotonic() - start < 8
    assert list(tmp_path.iterdir()) == []  # no model.onnx, no partial file


def test_a_pull_killed_outright_leaves_a_partial_file_that_the_next_pull_removes(host, payload, tmp_path):
    # A download in another process, stuck waiting for headers, is killed with SIGKILL: it cannot
    # clean up after itself.
    code = ("import sys; from pathlib import Path; from eraser.fetch import download; "
            "download(sys.argv[1], Path(sys.argv[2]), size=int(sys.argv[3]), sha256='0' * 64)")
    target = str(tmp_path / "model.onnx")
    pull = subprocess.Popen([sys.executable, "-c", code, f"{host}/hang", target, str(len(payload))],
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 20
        while not list(tmp_path.glob(".model.onnx.*.partial")) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        pull.send_signal(signal.SIGKILL)
        pull.wait()
    (leftover,) = tmp_path.glob(".model.onnx.*.partial")
    # A download still running in this process holds a lock on its partial file: it stays.
    running = tmp_path / ".model.onnx.running.partial"
    running.write_bytes(b"half")
    with open(running, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        fetch(host, "/good", tmp_path, payload)
    assert sorted(p.name for p in tmp_path.iterdir()) == [running.name, "model.onnx"]
    assert not leftover.exists()


def test_the_deadline_stops_a_download_that_keeps_going(host, payload, tmp_path):
    with pytest.raises(ModelError, match="took longer than 0 s"):
        fetch(host, "/good", tmp_path, payload, deadline=0.0)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def pinned(monkeypatch, tmp_path, host, payload):
    """The MI-GAN entry pointed at the local host with the stand-in's size and checksum."""
    monkeypatch.setenv("ERASER_MODELS_DIR", str(tmp_path))
    monkeypatch.delenv("ERASER_OFFLINE")
    model = pin(monkeypatch, "migan", payload, f"{host}/good")
    learned.forget()
    yield model
    learned.forget()


def test_first_use_fetches_checks_and_reuses_the_file(pinned, tmp_path):
    seen = []
    engines.get("migan").load(progress=lambda done, total: seen.append(done))
    assert (tmp_path / pinned.file).is_file() and seen[-1] == pinned.size
    assert models.present(pinned)
    learned.forget()
    engines.get("migan").load(progress=lambda *a: pytest.fail("downloaded twice"))


def test_a_changed_file_in_place_is_refused_not_used(pinned, tmp_path):
    (tmp_path / pinned.file).write_bytes(b"x" * pinned.size)
    with pytest.raises(ModelError, match="is not the published MI-GAN file.*models pull migan"):
        engines.get("migan").load()


def test_offline_never_opens_a_socket(pinned, monkeypatch):
    monkeypatch.setenv("ERASER_OFFLINE", "1")

    def no_network(*args, **kwargs):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(ModelError, match="downloads are off \\(ERASER_OFFLINE\\)"):
        engines.get("migan").load()
    with pytest.raises(ModelError, match="Downloads are off"):
        models.pull(pinned)
    assert engines.get("auto").load().note.endswith("Objects are filled with PatchMatch instead.")
