"""Helpers shared by the test folders: made-up photos and hostile files, tiny ONNX models, local
servers. Everything here is test-only; bench/ makes its own inputs."""

import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout: app.py, eraser/, tests/


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
