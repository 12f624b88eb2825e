"""Large blocks go back to the system when freed (eraser.allocator), in a process of their own."""

import json
import os
import subprocess
import sys

import pytest

from eraser import allocator

# Photo-sized blocks freed between small ones still in use, after one large free: glibc's own
# default then keeps them. Prints the resident growth at the peak and after the frees, in KB.
SCRIPT = """
import json, sys
from eraser import allocator

def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))

if sys.argv[1] == "set":
    assert allocator.return_large_blocks()
warm = bytearray(16 << 20)
del warm  # one large block freed: glibc's default threshold rises past 8 MB
base = rss()
blocks, small = [], []
for _ in range(30):
    blocks.append(bytearray(8 << 20))
    small.append(bytearray(64 << 10))  # in use between the large ones
peak = rss()
del blocks
print(json.dumps([peak - base, rss() - base]))
"""


def growth(mode: str) -> tuple[int, int]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=60,
                          cwd=os.getcwd(), check=True)
    return tuple(json.loads(done.stdout))


@pytest.mark.skipif(not allocator.glibc(), reason="glibc's malloc only (Debian, as in CI and on Community Cloud)")
def test_freed_photo_sized_blocks_leave_the_process():
    peak, kept = growth("set")
    assert peak > 200_000 and kept < peak * 0.1  # 240 MB held, then given back
    peak, kept = growth("default")
    assert peak > 200_000 and kept > peak * 0.5  # what the app's server did without it
