"""`python -m eraser serve`: the server under uvicorn, with a key even when none was configured."""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import sys

import uvicorn

from eraser.server.app import create_app
from eraser.server.settings import Settings


def _check_address(host: str, port: int) -> None:
    """Fail with one clear sentence, before uvicorn logs its own error, if we cannot listen there."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:  # socket.gaierror included
        raise ValueError(f"Cannot listen on {host}:{port} ({exc.strerror or exc}): choose another --host or --port.") from None


def serve(host: str = "127.0.0.1", port: int = 8000, environ=os.environ) -> None:
    settings = Settings.from_env(environ)
    _check_address(host, port)
    if not settings.api_keys:
        # Never open to everyone: this run gets a fresh key, shown once to whoever started it.
        key = secrets.token_urlsafe(24)
        settings = dataclasses.replace(settings, api_keys=(key,))
        print(f"ERASER_API_KEYS is not set; this run accepts only the key {key}", file=sys.stderr, flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                # Connections beyond this get 503 from uvicorn itself, before any body is read.
                limit_concurrency=4 * (settings.workers + settings.max_queue))
