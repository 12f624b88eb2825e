"""What the app's fixed mmap threshold (eraser.allocator.return_large_blocks) costs in time: a
12 MP erase with a stroke like the page's, then the save of its result, each repeated in one
process with glibc's default and in another with the threshold set, the two taking turns.

    python -m bench.allocator_cost [--runs 6] [--engine telea]

Memory is what the threshold is for; bench.server_memory measures that. Prints medians of the
wall and CPU seconds of each step, JPEG (blocks kept) and PNG, as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from bench.harness import ROOT

# One process's rounds: prints a JSON list of [erase wall, erase CPU, save wall, save CPU].
ROUNDS = """
import json, sys, time
import cv2, numpy as np
from bench.inputs import encode, scene
from eraser import Photo, allocator
from eraser.backends import Local

mode, fmt, engine, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if mode == "set":
    assert allocator.return_large_blocks()
options = {"quality": 86} if fmt == "JPEG" else {}
photo = Photo.open(encode(scene(4000, 3000, seed=5), fmt, **options), "photo." + fmt.lower())
local = Local(engine).load()
rows = []
for turn in range(runs + 1):  # the first round warms up
    mask = np.zeros((3000, 4000), np.uint8)
    x = 400 + 500 * turn
    cv2.line(mask, (x, 1800), (x + 400, 1950), 255, 200)  # the page's bench stroke, in photo pixels
    start, cpu = time.perf_counter(), time.process_time()
    result = local.erase(photo, mask > 0)
    erased, erased_cpu = time.perf_counter(), time.process_time()
    result.photo.encode()
    rows.append([erased - start, erased_cpu - cpu, time.perf_counter() - erased, time.process_time() - erased_cpu])
print(json.dumps(rows[1:]))
"""

MODES = {"default": "glibc's default", "set": "threshold fixed at 1 MiB (the app)"}


def rounds(mode: str, fmt: str, engine: str, runs: int) -> list[list[float]]:
    done = subprocess.run([sys.executable, "-c", ROUNDS, mode, fmt, engine, str(runs)], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=600)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--engine", default="telea")
    args = parser.parse_args()

    results: dict[tuple[str, str], list[list[float]]] = {}
    for fmt in ("JPEG", "PNG"):
        for half in (args.runs // 2, args.runs - args.runs // 2):  # the two modes take turns
            for mode in MODES:
                results.setdefault((fmt, mode), []).extend(rounds(mode, fmt, args.engine, half))

    print(f"12 MP photo, engine {args.engine}, medians of {args.runs} rounds per row, seconds\n")
    print("| photo | allocator | erase, wall | erase, CPU | save, wall | save, CPU |")
    print("|---|---|---:|---:|---:|---:|")
    for (fmt, mode), rows in results.items():
        medians = [statistics.median(column) for column in zip(*rows, strict=True)]
        print(f"| {fmt} | {MODES[mode]} | " + " | ".join(f"{v:.3f}" for v in medians) + " |")


if __name__ == "__main__":
    main()
