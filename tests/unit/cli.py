"""Run `python -m eraser` as a person would: its own process, in a folder of the test's."""

import os
import subprocess
import sys

from tests.support import ROOT


def run_cli(*args, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "eraser", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )
