"""Run `python -m eraser` under a time limit and measure its peak memory (max RSS), for the
tests that feed it hostile input."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from tests.conftest import ROOT


@dataclass
class Run:
    returncode: int | None  # None: killed at the time limit
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def run_limited(*args, cwd, timeout: float = 30.0) -> Run:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        child = subprocess.Popen([sys.executable, "-m", "eraser", *map(str, args)], stdout=out, stderr=err,
                                 stdin=subprocess.DEVNULL, cwd=cwd, env=env)
        while True:
            # wait4 gives this child's own peak memory, which Popen.wait would throw away.
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                status = None
                break
            time.sleep(0.02)
        child.returncode = 0  # reaped above: keep Popen from waiting on it again
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        code = None if status is None else os.waitstatus_to_exitcode(status)
        return Run(code, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                   seconds, usage.ru_maxrss / 1024)
