"""Large blocks go straight back to the system when freed (glibc's malloc).

By default glibc raises its mmap threshold each time a large block is freed (up to 32 MB), so
photo-sized blocks come from its heaps from then on, and freed ones stay with the process
between the blocks still in use. A long-running server that decodes photo after photo keeps
hundreds of MB it no longer uses: 20 visitors with 12 MP PNGs took the app's server to 1013 MB
at its peak, and to 739 MB with a fixed threshold (docs/app-memory.md, bench/server_memory.py).
A fixed threshold gives each block above it a mapping of its own, unmapped when it is freed.
That costs time, since each such block is mapped and filled afresh: 0.1 to 0.2 s on an upload
and an `auto` erase in the page (docs/benchmarks.md).
"""

from __future__ import annotations

import ctypes
import functools
import os

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
THRESHOLD = 2**20  # blocks of 1 MiB or more: photo files and pixel arrays, not Python's small objects


def glibc() -> bool:
    """Whether this process's C library is glibc (the only one these settings are for)."""
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError, AttributeError):  # not a name (or no confstr) on other systems
        return False


@functools.cache
def return_large_blocks() -> bool:
    """Make blocks of THRESHOLD bytes or more mapped on their own, for the rest of the process;
    done once (the app calls it at every run). False, and nothing changed, without glibc."""
    if not glibc():
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    return bool(mallopt and mallopt(M_MMAP_THRESHOLD, THRESHOLD))
