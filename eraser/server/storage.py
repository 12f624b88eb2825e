"""Where erased images wait for their download: behind an unguessable token, until they expire.

ResultStore is the whole interface the app uses, so results can move to S3-compatible storage
(README.md, "Several replicas") without touching the app.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

TOKEN_PATTERN = r"[A-Za-z0-9_-]{43}"  # secrets.token_urlsafe(32): 256 random bits
_TOKEN = re.compile(TOKEN_PATTERN)


@dataclass(frozen=True)
class Stored:
    data: bytes
    media_type: str
    expires_at: float  # seconds since the epoch


class ResultStore(Protocol):
    def put(self, data: bytes, media_type: str, expires_at: float) -> str:
        """Keep data until expires_at; return its token."""

    def get(self, token: str, now: float) -> Stored | None:
        """The result, or None when unknown or expired."""

    def purge(self, now: float) -> int:
        """Delete what expired before now; return how many results went."""


class LocalDirStore:
    """One directory: <token>.json (media type, expiry) next to <token>.bin (the image)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _paths(self, token: str) -> tuple[Path, Path]:
        return self.directory / f"{token}.json", self.directory / f"{token}.bin"

    def put(self, data: bytes, media_type: str, expires_at: float) -> str:
        token = secrets.token_urlsafe(32)
        meta, blob = self._paths(token)
        # Metadata first: a crash between the writes leaves a record that purge() removes on
        # expiry, never an image file nothing points to. The token is unknown until we return.
        # The rename makes the record appear whole, so a concurrent purge() never reads half of it.
        partial = meta.with_name(f".{token}.partial")
        partial.write_text(json.dumps({"media_type": media_type, "expires_at": expires_at}))
        os.replace(partial, meta)
        blob.write_bytes(data)
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
            path.unlink(missing_ok=True)
