"""Batch speed: photos per minute for `python -m eraser batch` on N 12 MP JPEGs (each a different
scene with the same dark 300 px object, one mask for all), with 1 and 2 worker processes.

    python -m bench.batch_speed [--photos 50] [--workers 1 2] [--engine auto]

Each run is the real command in its own process group, timed from start to exit (start-up,
the engine's load in every worker, decode, erase, encode and write included). The process group
is sampled every 0.2 s: peak memory is the largest sum of its processes' resident sizes (VmRSS;
an upper bound, as pages shared between the workers count once per worker), and CPU time is
the sum over its processes of the last user + system time seen (a process's last 0.2 s can be
missed). CPU seconds per photo do not depend on what else the machine runs; wall time does.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

WIDTH, HEIGHT = 4000, 3000
BLOB = 300
ROOT = Path(__file__).resolve().parent.parent


def make_photos(folder: Path, count: int) -> None:
    import numpy as np

    from bench.inputs import blob, encode, scene

    mask = blob(WIDTH, HEIGHT, (WIDTH // 2, HEIGHT * 2 // 3), BLOB)
    (folder / "mask.png").write_bytes(encode(mask.astype(np.uint8) * 255))
    photos = folder / "photos"
    photos.mkdir()
    for index in range(count):
        pixels = scene(WIDTH, HEIGHT, seed=index)
        pixels[mask] = (30, 30, 30)  # the object
        (photos / f"photo{index:03d}.jpg").write_bytes(encode(pixels, "JPEG", quality=90))


def _sample_group(pgid: int, cpu: dict[int, float]) -> float:
    """The group's total VmRSS in MB; each process's CPU seconds so far go into `cpu`."""
    total_kb = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # Fields after the command's ")": 3 state ... 5 pgrp ... 14 utime, 15 stime.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            cpu[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for line in (stat.parent / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except (OSError, IndexError, ValueError):  # the process ended meanwhile
            continue
    return total_kb / 1024


def run_batch(folder: Path, workers: int, engine: str, count: int) -> dict:
    out = folder / f"out{workers}"
    command = [sys.executable, "-m", "eraser", "batch", "photos", "-o", out.name, "--mask", "mask.png",
               "--engine", engine, "--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    peak, cpu, done = [0.0], {}, threading.Event()
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], _sample_group(child.pid, cpu))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    written = len(list(out.glob("*_erased.jpg")))
    if child.returncode != 0 or written != count:
        raise SystemExit(f"the batch with {workers} workers failed (exit {child.returncode}, {written} written):\n"
                         f"{stdout}{stderr}")
    notes = [line for line in stderr.splitlines() if line.startswith("note:")]
    return {"workers": workers, "seconds": seconds, "peak_mb": peak[0], "cpu": sum(cpu.values()), "notes": notes}


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=50, help="how many 12 MP photos (default 50)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--engine", default="auto")
    args = parser.parse_args()

    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {_cpu()}, {os.cpu_count()} cores "
          f"({len(os.sched_getaffinity(0))} usable); Python {platform.python_version()}; "
          f"load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        make_photos(folder, args.photos)
        size = sum(p.stat().st_size for p in (folder / "photos").iterdir()) / args.photos / 1e6
        print(f"made {args.photos} JPEGs of {WIDTH}x{HEIGHT} ({size:.1f} MB each) in "
              f"{time.perf_counter() - started:.0f} s; engine {args.engine}\n")
        print("| workers | photos | wall s | photos / min | CPU s / photo | peak RSS, all processes (MB) "
              "| load average at its end |\n|---|---|---|---|---|---|---|")
        notes = set()
        for workers in args.workers:
            result = run_batch(folder, workers, args.engine, args.photos)
            notes.update(result["notes"])
            seconds, cpu = result["seconds"], result["cpu"] / args.photos
            print(f"| {workers} | {args.photos} | {seconds:.1f} | {60 * args.photos / seconds:.1f} | {cpu:.2f} "
                  f"| {result['peak_mb']:.0f} | {os.getloadavg()[0]:.1f} |", flush=True)
    for note in sorted(notes):
        print(note)


if __name__ == "__main__":
    main()
