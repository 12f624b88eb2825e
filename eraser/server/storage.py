"""Where erased images wait for their download: behind an unguessable token, until they expire.

ResultStore is the whole interface the app uses, so results can move to S3-compatible storage
(README.md, "Several replicas") without touching the app.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from eraser.errors import StoreFull

TOKEN_PATTERN = r"[A-Za-z0-9_-]{43}"  # secrets.token_urlsafe(32): 256 random bits
_TOKEN = re.compile(TOKEN_PATTERN)
PARTIAL = ".partial"


@dataclass(frozen=True)
class Stored:
    data: bytes
    media_type: str
    expires_at: float  # seconds since the epoch


class ResultStore(Protocol):
    def put(self, data: bytes, media_type: str, expires_at: float) -> str:
        """Keep data until expires_at; return its token. StoreFull when there is no room."""

    def get(self, token: str, now: float) -> Stored | None:
        """The result, or None when unknown or expired."""

    def purge(self, now: float) -> int:
        """Delete what expired before now; return how many results went."""

    def full(self) -> bool:
        """True when new work should be refused because its result could not be kept."""


class LocalDirStore:
    """One directory: <token>.json (media type, expiry) next to <token>.bin (the image), at most
    max_bytes in all. Files are written under a .partial name and renamed when whole; partial
    files a crash left behind are removed at start, a failed write removes its own."""

    def __init__(self, directory: Path, max_bytes: int = 2**62):
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self.directory.mkdir(parents=True, exist_ok=True)
        for leftover in self.directory.glob(f"*{PARTIAL}"):
            leftover.unlink(missing_ok=True)
        probe = self.directory / f".probe{PARTIAL}"
        probe.write_bytes(b"")  # OSError now, at start, if the directory cannot be written
        probe.unlink()
        self.used = sum(path.stat().st_size for path in self.directory.iterdir() if path.is_file())

    def _paths(self, token: str) -> tuple[Path, Path]:
        return self.directory / f"{token}.json", self.directory / f"{token}.bin"

    def full(self) -> bool:
        return self.used >= self.max_bytes

    def put(self, data: bytes, media_type: str, expires_at: float) -> str:
        token = secrets.token_urlsafe(32)
        record = json.dumps({"media_type": media_type, "expires_at": expires_at}).encode()
        size = len(record) + len(data)
        with self._lock:
            if self.used + size > self.max_bytes:
                raise StoreFull(f"{self.used} of {self.max_bytes} bytes used")
            self.used += size  # reserved now, so concurrent puts cannot overshoot together
        # Metadata first: a crash between the writes leaves a record that purge() removes on
        # expiry, never an image file nothing points to. The token is unknown until we return.
        # The renames make each file appear whole, so get() and purge() never read half of one.
        written = []
        try:
            for path, content in zip(self._paths(token), (record, data), strict=True):
                partial = path.with_name(f".{path.name}{PARTIAL}")
                written.append(partial)
                partial.write_bytes(content)
                os.replace(partial, path)
                written[-1] = path
        except OSError as error:  # the disk is full, or gone
            for path in written:
                path.unlink(missing_ok=True)
            with self._lock:
                self.used -= size
            raise StoreFull(str(error.strerror or error)) from None
        return token

    def get(self, token: str, now: float) -> Stored | None:
        if not _TOKEN.fullmatch(token):  # also keeps paths inside the directory
            return None
        meta, blob = self._paths(token)
        try:
            info = json.loads(meta.read_text())
            if now >= info["expires_at"]:
                self._remove(token)
                return None
            return Stored(blob.read_bytes(), info["media_type"], info["expires_at"])
        except (OSError, ValueError, KeyError):
            return None

    def purge(self, now: float) -> int:
        removed = 0
        for meta in self.directory.glob("*.json"):
            try:
                expired = now >= json.loads(meta.read_text())["expires_at"]
            except (OSError, ValueError, KeyError):
                expired = True  # unreadable records cannot be served either
            if expired:
                self._remove(meta.stem)
                removed += 1
        return removed

    def _remove(self, token: str) -> None:
        for path in self._paths(token):
            try:
                size = path.stat().st_size
                path.unlink()
            except OSError:
                continue  # already gone (a concurrent get or purge)
            with self._lock:
                self.used -= size
