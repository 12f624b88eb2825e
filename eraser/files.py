"""Files on disk: read with a byte cap and a deadline, write whole or not at all."""

from __future__ import annotations

import os
import select
import stat
import time
from pathlib import Path

from .errors import EraserError
from .images import MAX_FILE_BYTES

READ_SECONDS = 30.0  # a pipe or device that trickles or never ends


def read(path: str | Path, what: str) -> bytes:
    """At most MAX_FILE_BYTES + 1 bytes of a file, pipe or device, refused when it is more,
    when it is a folder, or when it is still not done after READ_SECONDS."""
    try:
        # Non-blocking, so a FIFO nobody writes to does not hang the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise EraserError(f"Cannot read the {what} '{path}': {exc.strerror or exc}.") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise EraserError(f"Cannot read the {what} '{path}': it is a folder, not a file.")
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_BYTES:
            raise _too_big(path, what)
        return _read_capped(fd, path, what, stat.S_ISREG(info.st_mode))
    except OSError as exc:
        raise EraserError(f"Cannot read the {what} '{path}': {exc.strerror or exc}.") from exc
    finally:
        os.close(fd)


def _read_capped(fd: int, path: str | Path, what: str, regular: bool) -> bytes:
    deadline = time.monotonic() + READ_SECONDS
    chunks, size = [], 0
    while size <= MAX_FILE_BYTES:
        if not regular:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise EraserError(
                    f"Reading the {what} '{path}' took more than {READ_SECONDS:.0f} s, so it was stopped. "
                    "Give a file, or a pipe that ends."
                )
        try:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
        except BlockingIOError:
            continue
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_FILE_BYTES:
        raise _too_big(path, what)
    return b"".join(chunks)


def _too_big(path: str | Path, what: str) -> EraserError:
    return EraserError(
        f"The {what} '{path}' is larger than {MAX_FILE_BYTES // 2**20} MB, the limit. Save it smaller and try again."
    )


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` through a hidden temporary file beside it, so a stopped run leaves either
    the whole file or none (never half a photo that a resumed run would take as done)."""
    # A random name as secrets.token_hex makes it, without the import of hmac and hashlib (6 ms).
    temp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.part")
    try:
        # 0o666 less the umask, as a plain open would; O_EXCL: never through someone's link.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise EraserError(f"Cannot write '{path}': {exc.strerror or exc}.") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
