"""Keep what C code prints with fprintf(stderr) off the terminal while it runs.

libjpeg, inside jpeglib, prints its warnings ("Corrupt JPEG data: premature end of data
segment") that way, once per file it reads: noise around the one message a person should see,
about a file that was read anyway (what matters is checked, or refused with our own message).
jpeglib gives no way to install a quieter error manager, so while it runs C's `stderr` stream
points at /dev/null. Python writes to file descriptor 2 directly, not through that stream, so
our own messages and other threads' logs still get through, which redirecting descriptor 2
would not allow. Where libc's stream cannot be reached (not glibc or macOS), nothing changes.
"""

from __future__ import annotations

import ctypes
import os
import threading

_lock = threading.Lock()
_users = 0
_saved: int | None = None


def _libc_stderr() -> tuple[ctypes.c_void_p, int] | None:
    """libc's `stderr` variable and a FILE* open on /dev/null, or None."""
    try:
        libc = ctypes.CDLL(None)
        for name in ("stderr", "__stderrp"):  # glibc, macOS
            try:
                stream = ctypes.c_void_p.in_dll(libc, name)
                break
            except ValueError:
                continue
        else:
            return None
        libc.fopen.restype = ctypes.c_void_p
        libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        null = libc.fopen(os.devnull.encode(), b"w")
    except (OSError, AttributeError, TypeError):
        return None
    return (stream, null) if null else None


_STREAM = _libc_stderr()


class silenced:
    """`with silenced():` C code called inside prints nowhere. Nests and overlaps across threads:
    the stream is swapped by the first caller in and restored by the last one out."""

    def __enter__(self):
        global _users, _saved
        if _STREAM is not None:
            with _lock:
                if _users == 0:
                    _saved = _STREAM[0].value
                    _STREAM[0].value = _STREAM[1]
                _users += 1
        return self

    def __exit__(self, *exc):
        global _users
        if _STREAM is not None:
            with _lock:
                _users -= 1
                if _users == 0:
                    _STREAM[0].value = _saved
        return False
