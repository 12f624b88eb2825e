"""A local HTTP server standing in for the model host, and a model entry pinned to a stand-in
file, so the real download-and-check path runs without the internet."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from eraser import models


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """The files of `folder` over HTTP on 127.0.0.1; yields the base URL."""
    host = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    threading.Thread(target=host.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{host.server_address[1]}"
    finally:
        host.shutdown()
        host.server_close()


def pin(monkeypatch, name: str, data: bytes, url: str = "http://127.0.0.1:9/none") -> models.Model:
    """Make `data` the published file of model `name`, fetched from `url`."""
    pinned = dataclasses.replace(models.MODELS[name], url=url, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(models.MODELS, name, pinned)
    return pinned


@contextmanager
def hosted_migan(monkeypatch, folder: Path, cache: Path) -> Iterator[bytes]:
    """The MI-GAN stand-in published on a local host, downloads on, an empty cache at `cache`,
    and no session cached: the first MI-GAN load fetches it. Yields the file's bytes."""
    from eraser.engines import learned
    from tests.support.onnx_models import migan_like

    folder.mkdir()
    data = migan_like(folder / "migan.onnx").read_bytes()
    with serving(folder) as url:
        monkeypatch.setenv("ERASER_MODELS_DIR", str(cache))
        monkeypatch.delenv("ERASER_OFFLINE")
        pin(monkeypatch, "migan", data, f"{url}/migan.onnx")
        learned.forget()
        try:
            yield data
        finally:
            learned.forget()
