"""Run `python -m eraser` under a time limit and measure its peak memory (VmHWM, through
tests/unit/peak.py), for the tests that feed it hostile input."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support import ROOT


@dataclass
class Run:
    returncode: int | None  # None: killed at the time limit
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float  # 0 when killed


def run_limited(*args, cwd, timeout: float = 30.0) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        peak_file = os.path.join(tmp, "peak")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "ERASER_PEAK_FILE": peak_file}
        start = time.monotonic()
        child = subprocess.Popen([sys.executable, "-m", "tests.unit.peak", *map(str, args)], stdout=out, stderr=err,
                                 stdin=subprocess.DEVNULL, cwd=cwd, env=env)
        try:
            code = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            code = None
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        peak_kb = int(Path(peak_file).read_text()) if code is not None and os.path.exists(peak_file) else 0
        return Run(code, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                   seconds, peak_kb / 1024)
