"""The `eraser` command and `python -m eraser`: process-wide settings, then the command line."""

import os
import sys


def run(prog: str = "eraser") -> None:
    # OpenBLAS, inside numpy and OpenCV, starts a thread per core as each loads, which costs every
    # start up to a tenth of a second on two busy cores (docs/benchmarks.md); nothing eraser runs
    # multiplies matrices. Set here, before they load, and only for this command's processes.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from .cli import main

    sys.exit(main(prog=prog))


if __name__ == "__main__":
    run(prog="python -m eraser")
