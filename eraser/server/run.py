"""`python -m eraser serve`: the server under uvicorn, with a key even when none was configured.

serve() checks every setting first (one `error:` line each), then starts; anything to prepare
before serving (a model to fetch, say) goes between the two.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import sys

import uvicorn

from eraser import engines
from eraser.engines import learned
from eraser.server.app import create_app
from eraser.server.protocol import guarded_h11
from eraser.server.settings import Settings
from eraser.server.storage import open_store


def _check_address(host: str, port: int) -> None:
    """Fail with one clear sentence, before uvicorn logs its own error, if we cannot listen there."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:  # socket.gaierror included
        raise ValueError(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}): choose another --host or --port."
        ) from None


def server_config(app, host: str = "127.0.0.1", port: int = 8000, **options) -> uvicorn.Config:
    """uvicorn's settings for an app made by create_app: its header deadline and connection cap,
    and no limit_concurrency (whose plain-text 503 the Gate replaces, see eraser.server.protocol)."""
    settings: Settings = app.state.settings
    protocol = guarded_h11(settings.header_timeout, settings.max_connections)
    return uvicorn.Config(app, host=host, port=port, http=protocol,
                          timeout_keep_alive=max(1, int(settings.header_timeout)), limit_concurrency=None, **options)


def prepare_engine(name: str, progress=None) -> str:
    """Fetch and check the model the server's engine uses, now rather than in the first request;
    ModelError if it cannot be had. Returns the engine's note ('' or why auto falls back)."""
    engine = engines.get(name).load(progress)
    learned.forget()  # this process never erases: the worker processes open their own sessions
    return engine.note


def serve(host: str = "127.0.0.1", port: int = 8000, environ=os.environ, progress=None) -> None:
    settings = Settings.from_env(environ)
    _check_address(host, port)
    store = open_store(settings)
    note = prepare_engine(settings.engine, progress)
    if note:
        print(f"note: {note}", file=sys.stderr, flush=True)
    if not settings.api_keys:
        # Never open to everyone: this run gets a fresh key, shown once to whoever started it.
        key = secrets.token_urlsafe(24)
        settings = dataclasses.replace(settings, api_keys=(key,))
        print(f"ERASER_API_KEYS is not set; this run accepts only the key {key}", file=sys.stderr, flush=True)
    uvicorn.Server(server_config(create_app(settings, store=store), host, port, log_level="info")).run()
