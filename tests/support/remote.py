"""Servers on 127.0.0.1 for the remote tests (our own, and ones that misbehave on purpose), and pictures."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from contextlib import contextmanager

import numpy as np
import uvicorn

import eraser
from eraser import contract
from eraser.errors import EngineError
from eraser.images import Photo
from eraser.server import Settings, create_app
from eraser.server.run import server_config
from tests.support import free_port
from tests.support.photos import encode

KEY = "test-key-3f9a1c0de5b2"  # distinctive, so a leak is found by grep
START_TIMEOUT = 10.0


class Clock:
    """A settable clock for the server and the client, so expiry needs no waiting."""

    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextmanager
def serving(app):
    """Run an ASGI app under uvicorn in a thread on a free 127.0.0.1 port; yields its origin."""
    port = free_port()
    options = {"log_config": None, "log_level": "info", "lifespan": "on"}
    if hasattr(app, "state") and hasattr(app.state, "settings"):  # ours: with its connection limits
        config = server_config(app, "127.0.0.1", port, **options)
    else:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)


def make_app(tmp_path, clock=time.time, *, store=None, erase=eraser.erase, **overrides):
    fields = {"api_keys": (KEY,), "result_dir": tmp_path / "results", "workers": 4, "engine": "telea"}
    return create_app(Settings(**{**fields, **overrides}), clock=clock, store=store, erase=erase)


# -- engines that misbehave (module-level: the server runs them in worker processes) -------------

STALL_SECONDS = 3.0


def failing_erase(photo, mask, **_):
    raise EngineError("the engine gave up")


def crashing_erase(photo, mask, **_):
    raise RuntimeError("bug")


def stalling_erase(photo, mask, **_):
    """Takes STALL_SECONDS, then returns the photo unchanged."""
    time.sleep(STALL_SECONDS)
    return photo


def hanging_save_erase(photo, mask, **options):
    """The real erase, but its JPEG save hangs once eraser.jpeg has copied the photo into its
    temporary files (libjpeg's coefficient reader never returns), until the time limit."""
    _break_jpeg_reader(lambda *_: time.sleep(3600))
    return eraser.erase(photo, mask, **options)


def dying_save_erase(photo, mask, **options):
    """The same, but the worker process dies there a second later."""
    _break_jpeg_reader(lambda *_: (time.sleep(1.0), os._exit(3)))
    return eraser.erase(photo, mask, **options)


def _break_jpeg_reader(replacement) -> None:
    import jpeglib  # in the worker process that runs this job only: it is killed or dies

    jpeglib.read_dct = replacement


# -- pictures ------------------------------------------------------------------------------------

def scene(width=160, height=120, background=(90, 140, 200), blob=(250, 30, 30)):
    """A plain background with a blob in the middle; returns (photo, mask covering the blob)."""
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[:] = background
    top, left = height // 2 - 10, width // 2 - 15
    pixels[top:top + 20, left:left + 30] = blob
    mask = np.zeros((height, width), bool)
    mask[top - 2:top + 22, left - 2:left + 32] = True
    return Photo.open(encode(pixels), name="scene.png"), mask


def mask_png(mask: np.ndarray) -> bytes:
    return encode(np.where(mask, 255, 0).astype(np.uint8))


# -- misbehaving servers -------------------------------------------------------------------------

class Flaky:
    """Wraps an ASGI app: the first POSTs to the erase path get the given failures, the rest pass.

    A failure is a contract code (answered as the contract says) or (status, raw body bytes).
    """

    def __init__(self, app, failures):
        self.app = app
        self.failures = list(failures)
        self.posts = 0
        self.seen_headers: list[dict] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.seen_headers.append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == contract.PATH:
            self.posts += 1
            if self.failures:
                failure = self.failures.pop(0)
                if isinstance(failure, str):
                    status, body = contract.error_body(failure)
                    failure = (status, json.dumps(body).encode(), "application/json")
                return await _answer(send, *failure)
        return await self.app(scope, receive, send)


class Scripted:
    """A fake provider: each POST gets the next scripted answer (the last one repeats); a GET of a
    path in `files` gets (status, bytes or [(delay, chunk), ...] to trickle, headers)."""

    def __init__(self):
        self.answers: list[tuple[int, bytes, str, dict]] = []
        self.posts = 0
        self.files: dict[str, tuple[int, bytes, dict]] = {}
        self.seen_headers: list[dict] = []

    def answer_json(self, status: int, body: dict, headers: dict | None = None):
        self.answers.append((status, json.dumps(body).encode(), "application/json", headers or {}))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        self.seen_headers.append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
        while (await receive()).get("more_body"):
            pass
        if scope["method"] == "POST":
            self.posts += 1
            status, body, ctype, headers = self.answers[min(self.posts, len(self.answers)) - 1]
            return await _answer(send, status, body, ctype, headers)
        status, body, headers = self.files.get(scope["path"], (404, b"", {}))
        headers = dict(headers)
        return await _answer(send, status, body, headers.pop("content-type", "image/png"), headers)


async def _answer(send, status, body, content_type, headers=None):
    """body: bytes, or [(delay, chunk), ...] to trickle (no Content-Length then)."""
    head = [(b"content-type", content_type.encode())]
    if not isinstance(body, list):
        head.append((b"content-length", str(len(body)).encode()))
    head += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    if not isinstance(body, list):
        return await send({"type": "http.response.body", "body": body})
    for delay, chunk in body:
        await asyncio.sleep(delay)
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


class RawServer:
    """A TCP server that reads a request and then either closes at once (drop) or says nothing (hang)."""

    def __init__(self, mode: str):
        self.mode = mode
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.origin = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.settimeout(1.0)
            try:
                conn.recv(65536)
            except OSError:
                pass
            if self.mode == "drop":
                conn.close()
            else:
                self.held.append(conn)

    def close(self):
        self.stop.set()
        self.thread.join(2)
        for conn in self.held:
            conn.close()
        self.sock.close()
