"""A model file is run, not just read: a graph can loop forever or allocate gigabytes, and a path
can be a FIFO that never ends. So before a learned engine opens a file in this process, it opens
and self-checks it in a child process with a memory budget and a time limit. Only a file that
passed is opened here. A pass is remembered by the file's path, size and modification time, in
this process and beside the models, so a file is vetted once, not by every CLI run or worker.

The check's window is the engines' largest, so a real window needs no more memory than the
check did; every real run gets the same time limit as a deadline (LearnedEngine._run).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import models
from ..errors import ModelError
from . import selfcheck

# Address space a model may take beyond what the child holds after its imports: the stand-ins
# of bench/standin_models.py peak 0.74 GB (LaMa, 204 MB) and 0.61 GB (MI-GAN) above it when
# opened and checked. A graph that asks for more (3 GB at once, say) is refused.
MEMORY_BUDGET = 2 * 2**30
# Time to open and check a file, and for each later run of one window: a base for the
# interpreter plus a share per MB of weights (the real MI-GAN, 28 MB: 29 s; LaMa, 208 MB:
# 119 s; both run a window in 1 to 3 s on a laptop CPU).
BASE_SECONDS = 15.0
SECONDS_PER_MB = 0.5
RECORD = ".checked-models.json"
RECORD_BYTES = 64 * 1024
RECORD_ENTRIES = 64
# Where this package lives, so the child imports this same code.
_ROOT = str(Path(__file__).resolve().parents[2])

_passed: dict[str, str | None] = {}  # key -> the raw output the child found (LearnedEngine.raw_output)


def time_limit(size: int) -> float:
    return BASE_SECONDS + SECONDS_PER_MB * size / 1e6


def vet(engine: str, file: Path, info: os.stat_result) -> str | None:
    """Return once `engine` has opened and self-checked `file` within the budget and the time
    limit, in a child process (or did before); ModelError with the reason otherwise. Returns
    the name of the float tensor a uint8 answer is cast from, if any (LearnedEngine.raw_output)."""
    key = f"{selfcheck.VERSION}:{engine}:{file.resolve()}:{info.st_size}:{info.st_mtime_ns}"
    if key not in _passed:
        recorded = _recorded()
        if key in recorded:
            _passed[key] = recorded[key]
    if key in _passed:
        return _passed[key]
    limit = time_limit(info.st_size)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")])),
           "ERASER_OFFLINE": "1",
           "MALLOC_ARENA_MAX": "2"}  # glibc reserves 64 MB of address space per thread arena otherwise
    command = [sys.executable, "-c", "from eraser.engines.vetting import child; child()", engine, str(file)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, env=env,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise ModelError(
            f"'{file.name}' took longer than {limit:.0f} s to open and check, so it was not used."
        ) from None
    answer = _answer(done.stdout)
    if "error" in answer:
        raise ModelError(answer["error"])
    if not answer.get("passed"):
        raise ModelError(f"'{file.name}' could not be opened and checked: the process checking it "
                         f"{_how(done.returncode)} (a model may use {budget()}), so it was not used.")
    raw = answer.get("raw") if isinstance(answer.get("raw"), str) else None
    _passed[key] = raw
    _remember(key, raw)
    return raw


def _answer(stdout: str) -> dict:
    lines = stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _how(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"crashed ({signal.Signals(-returncode).name})"
        except ValueError:
            return f"crashed (signal {-returncode})"
    return f"stopped with code {returncode}"


def child() -> None:
    """The child's side: `python -c ... ENGINE FILE`; prints {"passed": true, "raw": ...} or {"error": ...}."""
    from . import get

    name, file = sys.argv[1], Path(sys.argv[2])
    _limit_memory()
    try:
        answer = {"passed": True, "raw": get(name, file).check_here(file)}
    except ModelError as error:
        answer = {"error": str(error)}
    except MemoryError:
        answer = {"error": out_of_memory(file.name)}
    print(json.dumps(answer), flush=True)


def budget() -> str:
    return f"{MEMORY_BUDGET / 2**30:.0f} GB"


def out_of_memory(name: str) -> str:
    return f"'{name}' needs more memory than a model may use ({budget()}) to open, so it was not used."


def _limit_memory() -> None:
    """Cap this process's address space at what it holds now plus MEMORY_BUDGET (Linux)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return  # no /proc: the time limit still holds
    size = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmSize:")), None)
    if size is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + MEMORY_BUDGET
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


def _record_path() -> Path:
    return models.directory() / RECORD


def _recorded() -> dict[str, str | None]:
    """The passes remembered beside the models, key -> raw output (a missing, odd or oversized
    record is empty)."""
    try:
        fd = os.open(_record_path(), os.O_RDONLY | os.O_NONBLOCK)  # never waits on a FIFO
    except OSError:
        return {}
    try:
        data = os.read(fd, RECORD_BYTES + 1)
        entries = json.loads(data) if len(data) <= RECORD_BYTES else {}
    except (OSError, ValueError):
        return {}
    finally:
        os.close(fd)
    if not isinstance(entries, dict):
        return {}
    return {key: raw for key, raw in entries.items() if raw is None or isinstance(raw, str)}


def _remember(key: str, raw: str | None) -> None:
    """Add a pass to the record; a record that cannot be written only costs a vet next time."""
    entries = {old: value for old, value in _recorded().items() if old != key}
    entries = dict(list(entries.items())[-(RECORD_ENTRIES - 1):]) | {key: raw}
    path, temporary = _record_path(), None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f"{RECORD}.", dir=path.parent)
        with os.fdopen(fd, "w") as out:
            json.dump(entries, out)
        os.replace(temporary, path)
    except OSError:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
