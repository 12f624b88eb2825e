"""The `eraser` command and `python -m eraser`: process-wide settings, then the command line."""

import gc
import os
import sys


def run(prog: str = "eraser") -> None:
    # OpenBLAS, inside numpy and OpenCV, starts a thread per core as each loads, which costs every
    # start up to a tenth of a second on two busy cores (docs/benchmarks.md); nothing eraser runs
    # multiplies matrices. Set here, before they load, and only for this command's processes.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # The imports make tens of thousands of objects that live as long as the process: looking for
    # cycles among them while importing, and again at exit, is wasted (0.02 s and 0.1 s here).
    gc.disable()
    from .cli import main

    gc.enable()
    code = main(prog=prog)
    gc.freeze()  # the interpreter's exit still runs every clean-up; its collections skip these
    sys.exit(code)


if __name__ == "__main__":
    run(prog="python -m eraser")
