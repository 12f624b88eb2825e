"""Download one pinned file: streamed, capped at its known size, under a deadline, checked by
SHA-256, and only then renamed into place, so nothing that looks complete is ever left behind.

A download writes to a `.partial` file it holds a lock on; a download killed outright (kill -9)
cannot delete its own, so the next one deletes every partial file nobody holds a lock on."""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests
import urllib3

from .errors import BodyError, ModelError
from .streams import IDENTITY, read_chunks

# (bytes so far, bytes in all)
Progress = Callable[[int, int], None]
CHUNK = 256 * 1024


def download(url: str, dest: Path, *, size: int, sha256: str, deadline: float = 600.0,
             connect_timeout: float = 10.0, read_timeout: float = 30.0,
             progress: Progress | None = None) -> Path:
    """Fetch `url` to `dest`; ModelError with a sentence a person can act on if anything is off.

    `deadline` bounds the whole transfer in seconds; `read_timeout` a silence between two reads.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(dest)
    fd, partial = _partial(dest)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _stream(url, dest.name, out, size, deadline, (connect_timeout, read_timeout), progress)
            if digest != sha256:
                raise ModelError(
                    f"The download of {dest.name} is corrupt (its checksum does not match). "
                    "Try again; if it keeps failing, the file on the server has changed."
                )
            try:
                os.replace(partial, dest)  # while the lock is held: the file is never a leftover
            except OSError as exc:
                raise ModelError(f"Could not save {dest.name}: {exc.strerror or exc}.") from exc
    finally:
        Path(partial).unlink(missing_ok=True)
    return dest


def _pattern(dest: Path) -> str:
    return str(dest.parent / f".{glob.escape(dest.name)}.*.partial")


def _partial(dest: Path) -> tuple[int, str]:
    """A new partial file for `dest`, locked; made again if a cleaner removed it before the lock."""
    while True:
        fd, partial = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(partial).st_ino == os.fstat(fd).st_ino:
                return fd, partial
        except FileNotFoundError:
            pass
        os.close(fd)


def _remove_leftovers(dest: Path) -> None:
    """Delete the partial files of `dest` that no running download holds a lock on."""
    for leftover in glob.glob(_pattern(dest)):
        try:
            fd = os.open(leftover, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while its download runs
            os.unlink(leftover)
        except OSError:
            pass
        finally:
            os.close(fd)


def _stream(url, name, out, size, deadline, timeouts, progress) -> str:
    stop = time.monotonic() + deadline
    digest, done = hashlib.sha256(), 0
    try:
        with requests.get(url, stream=True, timeout=timeouts, headers=IDENTITY) as answer:
            if answer.status_code != 200:
                raise ModelError(f"Could not download {name}: the server answered HTTP {answer.status_code}.")
            # decode=False: the cap and the checksum apply to the bytes as they are on the server.
            for chunk in read_chunks(answer, size, stop, decode=False, chunk_size=CHUNK):
                done += len(chunk)
                digest.update(chunk)
                _write(out, chunk, name)
                if progress:
                    progress(done, size)
    except BodyError as exc:
        if exc.reason == BodyError.TOO_LARGE:
            raise ModelError(
                f"The download of {name} is larger than the expected {size:,} bytes; it was stopped."
            ) from None
        if exc.reason == BodyError.DEADLINE:
            raise ModelError(f"The download of {name} took longer than {deadline:.0f} s and was stopped. "
                             "Try again later.") from None
        raise _unreachable(name, exc.detail) from exc
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _unreachable(name, type(exc).__name__) from exc
    if done != size:
        raise ModelError(f"The download of {name} stopped early ({done:,} of {size:,} bytes). Try again.")
    return digest.hexdigest()


def _unreachable(name: str, why: str) -> ModelError:
    return ModelError(f"Could not download {name} ({why}). Check the internet connection and try again.")


def _write(out, chunk: bytes, name: str) -> None:
    try:
        out.write(chunk)
    except OSError as exc:
        raise ModelError(f"Could not save {name}: {exc.strerror or exc}. Free some disk space and try again.") from exc
