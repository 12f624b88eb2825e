"""Load on the image-erase server: throughput and latency under a bounded number of requests.

    python -m bench.server_load [--concurrency 20] [--total 100] [--size 1152x864] [--engine auto]
                                [--workers N]

Starts `python -m eraser serve` on 127.0.0.1 in its own process, sends --total requests from
--concurrency threads (each request: POST the photo and mask, then GET the result URL, as a
client does), and prints requests per second and latency percentiles. The photos are made
here (bench/inputs.py): a photo-like scene with an object-sized blob to erase, a different
scene per request slot, sent as JPEG q90.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests

from bench.harness import free_port
from bench.inputs import blob, encode, scene
from eraser import contract

KEY = "bench-key"
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 300.0
VARIANTS = 10


def _inputs(width: int, height: int) -> list[tuple[bytes, bytes]]:
    made = []
    for seed in range(VARIANTS):
        pixels = scene(width, height, seed=seed)
        mask = blob(width, height, (width // 3 + seed * width // 30, height * 2 // 3), min(width, height) // 4)
        pixels[mask] = (30, 30, 30)  # the object
        made.append((encode(pixels, "JPEG", quality=90), encode(mask.astype(np.uint8) * 255)))
    return made


def start_server(port: int, results: Path, engine: str, workers: int | None, root: Path | None = None,
                 **settings: str) -> subprocess.Popen:
    """`python -m eraser serve` on 127.0.0.1:port, once its /health answers; settings: more ERASER_*
    variables; root: the source tree to run the server from (default this one)."""
    root = root or Path(__file__).resolve().parent.parent
    env = {**os.environ, "ERASER_API_KEYS": KEY, "ERASER_RESULT_DIR": str(results), "ERASER_ENGINE": engine,
           "PYTHONPATH": str(root), **settings}
    if workers:
        env["ERASER_WORKERS"] = str(workers)
    server = subprocess.Popen([sys.executable, "-m", "eraser", "serve", "--port", str(port)], env=env, cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start within a minute")


def _one(origin: str, image: bytes, mask: bytes, local: threading.local) -> tuple[float, int]:
    session = getattr(local, "session", None) or requests.Session()
    local.session = session
    begin = time.perf_counter()
    response = session.post(origin + contract.PATH, headers={contract.KEY_HEADER: KEY}, timeout=REQUEST_TIMEOUT,
                            files={contract.IMAGE_FIELD: ("photo.jpg", image), contract.MASK_FIELD: ("mask.png", mask)})
    status = response.status_code
    if status == 200:
        status = session.get(response.json()["data"]["image_url"], timeout=REQUEST_TIMEOUT).status_code
    return time.perf_counter() - begin, status


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--total", type=int, default=100)
    parser.add_argument("--size", default="1152x864", help="photo WIDTHxHEIGHT (default about 1 MP)")
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--workers", type=int, help="ERASER_WORKERS (default: the server's, CPUs - 1)")
    args = parser.parse_args()
    # On SIGTERM, unwind through `finally`, which stops the server this script started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    width, height = (int(v) for v in args.size.lower().split("x"))
    inputs = _inputs(width, height)
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as results:
        server = start_server(port, Path(results), args.engine, args.workers)
        try:
            health = requests.get(origin + "/health", timeout=5).json()
            _one(origin, *inputs[0], threading.local())  # warm-up: first engine use loads its code
            local = threading.local()
            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                done = list(pool.map(lambda i: _one(origin, *inputs[i % VARIANTS], local), range(args.total)))
            wall = time.perf_counter() - began
        finally:
            server.terminate()
            server.wait(30)
    latencies = [seconds for seconds, status in done if status == 200]
    statuses = Counter(status for _, status in done)
    print(f"server: {health['workers']} erase workers, engine {args.engine}, machine CPUs {os.cpu_count()}")
    print(f"load: {args.total} requests ({width}x{height} JPEG, object mask), {args.concurrency} at a time")
    print(f"statuses: {dict(statuses)}")
    print(f"throughput: {args.total / wall:.2f} requests/s over {wall:.1f} s")
    if latencies:
        print("latency (POST + result download), seconds: "
              f"p50 {percentile(latencies, 0.5):.2f}  p90 {percentile(latencies, 0.9):.2f}  "
              f"p99 {percentile(latencies, 0.99):.2f}  max {max(latencies):.2f}  "
              f"mean {statistics.mean(latencies):.2f}")


if __name__ == "__main__":
    main()
