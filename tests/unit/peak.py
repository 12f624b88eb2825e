"""`python -m tests.unit.peak ARGS`: `python -m eraser ARGS`, then the process's own peak memory
written to the file named by $ERASER_PEAK_FILE. VmHWM starts afresh at exec; wait4's
ru_maxrss would also count the forked test runner's memory."""

import os
import runpy
import sys
from pathlib import Path


def _write_peak() -> None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            Path(os.environ["ERASER_PEAK_FILE"]).write_text(line.split()[1])


sys.argv = ["eraser", *sys.argv[1:]]
try:
    runpy.run_module("eraser", run_name="__main__", alter_sys=True)
finally:
    _write_peak()
