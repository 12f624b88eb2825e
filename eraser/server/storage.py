"""Where erased images wait for their download: behind an unguessable token, until they expire.

ResultStore is the whole interface the app uses: LocalDirStore keeps results in one directory,
S3ResultStore (eraser/server/s3store.py) in a bucket several replicas share (docs/deployment.md,
"Several replicas"); open_store() picks the one the settings ask for. The stores' rules (what a
request reserves, when a store counts as full, how it recovers when it cannot be written) are in
docs/server.md.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
import shutil
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from eraser.server.settings import MB, Settings

if TYPE_CHECKING:
    from eraser.server.s3store import S3ResultStore

from eraser.errors import StoreFailed, StoreFull  # noqa: F401  (re-exported for the server and its stores)

TOKEN_PATTERN = r"[A-Za-z0-9_-]{43}"  # secrets.token_urlsafe(32): 256 random bits
_TOKEN = re.compile(TOKEN_PATTERN)
log = logging.getLogger(__name__)
PARTIAL = ".partial"

# What one result may take: its record and file headers, the metadata copied from the upload
# (never more than the upload), and the pixels. 4.5 bytes a pixel covers every format the
# server writes: 8-bit RGBA PNG, BMP and lossless WebP take at most 4, and a JPEG of pure noise
# at quality 100 with full-resolution colour took 4.1 (Pillow, 1 MP).
RESULT_MARGIN = 64 * 1024
BYTES_PER_PIXEL = 4.5
RECENT = 16  # reservations averaged into "a typical result"


def result_bound(upload_bytes: int, width: int, height: int) -> int:
    """The most bytes the result of erasing a photo of this file size and resolution can take."""
    return RESULT_MARGIN + upload_bytes + math.ceil(BYTES_PER_PIXEL * width * height)


@dataclass(frozen=True)
class Stored:
    data: bytes
    media_type: str
    expires_at: float  # seconds since the epoch


class Reservation:
    """Room for one result of at most `size` bytes. hold() takes it from the store (StoreFull
    when there is none) just before the erase runs; put() turns it into the result's real size;
    release() gives back whatever is still held. Each may be called from any thread, in any
    order, any number of times; once released, it can no longer be held."""

    def __init__(self, store: LocalDirStore | S3ResultStore, size: int):
        self.store, self.size = store, size
        self.state = "new"  # then "held", then "done"; or "new" then "done"

    def hold(self) -> None:
        self.store._hold(self)

    def release(self) -> None:
        self.store._release(self)


class ResultStore(Protocol):
    def reservation(self, size: int) -> Reservation:
        """Room for a result of at most size bytes, not held yet."""

    def put(self, data: bytes, media_type: str, expires_at: float, room: Reservation | None = None) -> str:
        """Keep data until expires_at, in the room held for it; return its token. StoreFull when
        it cannot be kept."""

    def url(self, token: str, seconds: float) -> str | None:
        """Where the client downloads the result for the next `seconds`, when not from this server
        at /results/<token>: a presigned URL into a bucket, say."""

    def get(self, token: str, now: float) -> Stored | None:
        """The result, or None when unknown, expired, or served by url() instead."""

    def purge(self, now: float) -> int:
        """Delete what expired before now; return how many results went."""

    def full(self) -> bool:
        """True when a typical new result could not be kept now: new work is refused."""

    def recheck(self) -> None:
        """If the store could not be written, try again (called every second or so)."""


def open_store(settings: Settings) -> ResultStore:
    """The store the settings ask for, checked now: ValueError with one sentence if it cannot be used."""
    if settings.s3_bucket:
        # Imported here: boto3 is loaded only by servers that use a bucket.
        from eraser.server.s3store import S3ResultStore

        store = S3ResultStore(settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url)
        try:
            store.check()
        except StoreFailed as why:
            where = settings.s3_endpoint_url or "AWS"
            raise ValueError(f"ERASER_S3_BUCKET '{settings.s3_bucket}' at {where} cannot be used ({why}): check the "
                             "bucket's name, ERASER_S3_ENDPOINT_URL, and the AWS credentials and region.") from None
        return store
    try:
        return LocalDirStore(settings.result_dir, settings.store_mb * MB)
    except OSError as exc:
        raise ValueError(f"ERASER_RESULT_DIR '{settings.result_dir}' cannot be created or written "
                         f"({exc.strerror or exc}): choose another directory.") from None


def refuse_new_work(store: LocalDirStore | S3ResultStore, problem: str) -> str:
    """Record why `store` cannot take new work until its recheck passes; logged once, when it starts."""
    with store._lock:
        first, store.problem = store.problem is None, problem
    if first:
        log.error("%s: refusing new work until it can", problem)
    return problem


class LocalDirStore:
    """One directory: <token>.json (media type, expiry) next to <token>.bin (the image), at most
    max_bytes in all, counting the room held for results being made. Files are written under a
    .partial name and renamed when whole; partial files a crash left behind are removed at
    start, a failed write removes its own (or, when the directory refuses even that, the next
    recheck does)."""

    def __init__(self, directory: Path, max_bytes: int = 2**62):
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self.directory.mkdir(parents=True, exist_ok=True)
        for leftover in self.directory.glob(f"*{PARTIAL}"):
            leftover.unlink(missing_ok=True)
        self._probe()  # OSError now, at start, if the directory cannot be written
        self.used = self._on_disk()
        self.reserved = 0  # held by reservations
        self.problem: str | None = None  # why the directory cannot be written, until it can
        self._writing = 0  # puts past their room check and not finished
        self._changes = 0  # files added or removed, so that a recount can tell it raced one
        self._litter: set[Path] = set()  # partial files a failed write could not remove
        self._recent: deque[int] = deque(maxlen=RECENT)

    def _paths(self, token: str) -> tuple[Path, Path]:
        return self.directory / f"{token}.json", self.directory / f"{token}.bin"

    def _probe(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)  # removed meanwhile: made again
        probe = self.directory / f".probe{PARTIAL}"
        probe.write_bytes(b"")
        probe.unlink()

    def _on_disk(self) -> int:
        return sum(path.stat().st_size for path in self.directory.iterdir() if path.is_file())

    def _free(self) -> int:
        return self.max_bytes - self.used - self.reserved

    def typical(self) -> int:
        """A typical result's reservation: the mean of the recent ones (the smallest possible
        before there are any), and never more than the whole store."""
        recent = list(self._recent)
        return min(self.max_bytes, sum(recent) // len(recent) if recent else RESULT_MARGIN)

    def full(self) -> bool:
        with self._lock:
            return self.problem is not None or self._free() < self.typical()

    def reservation(self, size: int) -> Reservation:
        return Reservation(self, size)

    def url(self, token: str, seconds: float) -> None:
        return None  # served by the app at /results/<token>

    def _hold(self, room: Reservation) -> None:
        try:
            disk = shutil.disk_usage(self.directory).free
        except OSError as error:  # the directory is gone, or was replaced by a file
            self._broken(error)
            disk = 0
        with self._lock:
            if room.state != "new":
                raise StoreFull("the request ended before its erase began")
            self._recent.append(room.size)
            if self.problem:
                raise StoreFull(self.problem)
            free = min(self._free(), disk - self.reserved)
            if room.size > free:
                raise StoreFull(f"{room.size} bytes needed, {max(0, free)} free")
            self.reserved += room.size
            room.state = "held"

    def _release(self, room: Reservation) -> None:
        with self._lock:
            if room.state == "held":
                self.reserved -= room.size
            room.state = "done"

    def put(self, data: bytes, media_type: str, expires_at: float, room: Reservation | None = None) -> str:
        token = secrets.token_urlsafe(32)
        record = json.dumps({"media_type": media_type, "expires_at": expires_at}).encode()
        size = len(record) + len(data)
        with self._lock:
            if self.problem:
                raise StoreFull(self.problem)
            held = room.size if room is not None and room.state == "held" else 0
            if size - held > self._free():  # larger than its room, and no room for the rest
                raise StoreFull(f"{self.used} of {self.max_bytes} bytes used")
            if room is not None:
                self.reserved -= held
                room.state = "done"
            self.used += size  # counted now, so concurrent puts cannot overshoot together
            self._writing += 1
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
        except OSError as error:  # the disk is full, or gone, or read-only
            left = {path for path in written if not _unlink(path)}
            with self._lock:
                self.used -= size
                self._litter |= left
            raise StoreFull(self._broken(error)) from None
        finally:
            with self._lock:
                self._writing -= 1
                self._changes += 1
        return token

    def _broken(self, error: OSError) -> str:
        return refuse_new_work(self, f"the results directory cannot be written ({error.strerror or error})")

    def recheck(self) -> None:
        """Clear the problem once a file can be written again, remove what failed writes left,
        and count what is really there (the directory may have been replaced meanwhile)."""
        with self._lock:
            problem, litter, changes = self.problem, set(self._litter), self._changes
        if problem is None and not litter:
            return
        try:
            self._probe()
            gone = {path for path in litter if _unlink(path)}
            used = self._on_disk() if problem else 0
        except OSError:
            return
        with self._lock:
            self._litter -= gone
            # No put starts while there is a problem, but one that began before it was found,
            # or a removal, may have changed the files during the count: then count next time.
            if not (problem and self._writing == 0 and self._changes == changes):
                return
            self.used, self.problem = used, None
        log.info("the results directory can be written again: taking new work")

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
                continue  # already gone (a concurrent get or purge), or not removable now
            with self._lock:
                self.used -= size
                self._changes += 1


def _unlink(path: Path) -> bool:
    """Remove a file; True when it is gone (or never was there)."""
    try:
        path.unlink(missing_ok=True)
        return True
    except OSError:
        return False
