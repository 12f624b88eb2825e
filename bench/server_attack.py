"""Load and faults against the image-erase server: what it holds while it is attacked.

    python -m bench.server_attack [--idle 1000] [--slow 200] [--flood 300] [--photos 24] [--engine telea]
                                  [--photo-concurrency 6] [--only-12mp] [--workers N]
                                  [--server-root DIR]

Starts `python -m eraser serve` on 127.0.0.1 in its own process (header deadline 5 s, body
deadline 10 s, to keep the run short) and runs, one after the other:

  idle          --idle connections that never send a byte
  slow headers  --slow connections sending one header byte a second
  slow bodies   --slow uploads with a valid key, a full-size body announced, 1 KB a second sent
  wrong key     --flood full-size (6.3 MB) uploads with a wrong key, 32 at a time
  large photos  --photos erases of a mix of 12, 6 and 1 MP JPEGs, --photo-concurrency at a time,
                each result downloaded

During each attack a well-behaved client sends a 1 MP erase every half second (no retries) and
the table shows what it got: answers, their statuses and latency. Peak memory is the server's
and its worker processes' proportional set size (PSS: shared pages split between them), sampled
every 0.1 s; disk is the result directory's size at the end of the phase.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
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
from bench.server_load import KEY, percentile, start_server
from eraser import contract
from eraser.server.app import MAX_BODY_BYTES

SETTINGS = {"ERASER_HEADER_TIMEOUT": "5", "ERASER_BODY_TIMEOUT": "10"}
PROBE_EVERY = 0.5
TIMEOUT = 120.0


def _photo(width: int, height: int, seed: int = 0) -> tuple[bytes, bytes]:
    pixels = scene(width, height, seed)
    mask = blob(width, height, (width // 2, height * 2 // 3), min(width, height) // 5)
    pixels[mask] = (30, 30, 30)
    return encode(pixels, "JPEG", quality=85), encode(mask.astype(np.uint8) * 255)


def _erase(origin: str, image: bytes, mask: bytes, key: str = KEY) -> tuple[float, int]:
    began = time.perf_counter()
    try:
        response = requests.post(origin + contract.PATH, headers={contract.KEY_HEADER: key}, timeout=TIMEOUT,
                                 files={contract.IMAGE_FIELD: ("photo.jpg", image),
                                        contract.MASK_FIELD: ("mask.png", mask)})
        status = response.status_code
        if status == 200:
            status = requests.get(response.json()["data"]["image_url"], timeout=TIMEOUT).status_code
    except requests.RequestException as error:
        status = type(error).__name__
    return time.perf_counter() - began, status


def _tree(pid: int) -> list[int]:
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def _memory(pid: int) -> int:
    """Bytes of PSS of the process and its descendants."""
    total = 0
    for each in _tree(pid):
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def _disk(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.iterdir() if path.is_file())


class Sampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self):
        while not self.stop.wait(0.1):
            self.peak = max(self.peak, _memory(self.pid))


class Prober(threading.Thread):
    """The well-behaved client: one 1 MP erase every PROBE_EVERY seconds until stopped."""

    def __init__(self, origin: str, photo: tuple[bytes, bytes]):
        super().__init__(daemon=True)
        self.origin, self.photo, self.stop, self.done = origin, photo, threading.Event(), []

    def run(self):
        while not self.stop.is_set():
            self.done.append(_erase(self.origin, *self.photo))
            self.stop.wait(PROBE_EVERY)


def _connect(port: int) -> socket.socket | None:
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return None


def _drain(sock: socket.socket) -> tuple[bytes, bool]:
    """What the server has sent so far, and whether it has closed the connection."""
    sock.setblocking(False)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
        return data, True
    except BlockingIOError:
        return data, False
    except OSError:
        return data, True


def _closed(sock: socket.socket) -> bool:
    return _drain(sock)[1]


def _head(key: str) -> bytes:
    return (f"POST {contract.PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n{contract.KEY_HEADER}: {key}\r\n"
            f"Content-Type: multipart/form-data; boundary=zzz\r\nContent-Length: {MAX_BODY_BYTES}\r\n\r\n").encode()


def _trickle(socks: list[socket.socket], data: bytes, seconds: float, step: int) -> tuple[int, Counter]:
    """Send data to every socket, step bytes a second, for seconds: how many sockets the server
    closed, and the statuses it answered."""
    for second in range(int(seconds)):
        for sock in socks:
            piece = data[second * step:(second + 1) * step] or b"x" * step
            try:
                sock.send(piece)
            except OSError:
                pass
        time.sleep(1)
    closed, answers = 0, Counter()
    for sock in socks:
        data, gone = _drain(sock)
        closed += gone
        answers[data.split(b" ")[1].decode() if data.startswith(b"HTTP/") else "none"] += 1
        sock.close()
    return closed, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--flood", type=int, default=300)
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--photo-concurrency", type=int, default=6, help="large-photo erases in flight at once")
    parser.add_argument("--only-12mp", action="store_true", help="every large photo 12 MP, not a mix")
    parser.add_argument("--engine", default="telea")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--server-root", type=Path,
                        help="run the server from this source tree (e.g. an older commit's)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind through `finally`: stop the server
    probe_photo = _photo(1152, 864)
    large = [_photo(4000, 3000, 1), _photo(2828, 2121, 2), _photo(1152, 864, 3)]
    if args.only_12mp:
        large = [large[0]] * 3
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder)
        server = start_server(port, results, args.engine, args.workers, args.server_root, **SETTINGS)
        sampler = Sampler(server.pid)
        sampler.start()
        try:
            health = requests.get(origin + "/health", timeout=5).json()
            _erase(origin, *probe_photo)  # warm-up: the first erase starts a worker process

            def phase(name, attack):
                sampler.peak = _memory(server.pid)
                prober = Prober(origin, probe_photo)
                prober.start()
                began = time.perf_counter()
                note = attack()
                prober.stop.set()
                prober.join(TIMEOUT)
                rows.append((name, time.perf_counter() - began, prober.done, note, sampler.peak, _disk(results)))

            def idle():
                socks = [s for s in (_connect(port) for _ in range(args.idle)) if s]
                time.sleep(7)  # past the 5 s header deadline
                closed = sum(_closed(s) for s in socks)
                for s in socks:
                    s.close()
                return f"{len(socks)} opened, {closed} closed by the server within 7 s"

            def slow_headers():
                socks = [s for s in (_connect(port) for _ in range(args.slow)) if s]
                closed, _ = _trickle(socks, _head(KEY), 8, 1)
                return f"{len(socks)} opened, {closed} closed within 8 s"

            def slow_bodies():
                socks = [s for s in (_connect(port) for _ in range(args.slow)) if s]
                for s in socks:
                    s.sendall(_head(KEY))
                closed, answers = _trickle(socks, b"", 12, 1024)
                return f"{len(socks)} uploads, answers {dict(answers)}, {closed} closed within 12 s"

            def wrong_key():
                body = os.urandom(MAX_BODY_BYTES)
                with ThreadPoolExecutor(32) as pool:
                    statuses = Counter(pool.map(lambda _: _post_raw(origin, body), range(args.flood)))
                return f"{args.flood} uploads of 6.3 MB, answers {dict(statuses)}"

            def large_photos():
                with ThreadPoolExecutor(args.photo_concurrency) as pool:
                    done = list(pool.map(lambda i: _erase(origin, *large[i % 3]), range(args.photos)))
                ok = [seconds for seconds, status in done if status == 200]
                sizes = ", ".join(f"{len(image) / 2**20:.1f} MB" for image, _ in large)
                statuses = dict(Counter(status for _, status in done))
                text = (f"{args.photos} erases ({args.photo_concurrency} at a time, JPEGs of {sizes}), "
                        f"statuses {statuses}")
                if ok:
                    text += f", latency p50 {percentile(ok, 0.5):.1f} s, max {max(ok):.1f} s"
                return text

            for name, attack in (("idle", idle), ("slow headers", slow_headers), ("slow bodies", slow_bodies),
                                 ("wrong key", wrong_key), ("large photos", large_photos)):
                phase(name, attack)
        finally:
            sampler.stop.set()
            server.terminate()
            server.wait(30)
    settings = ", ".join(f"{k}={v}" for k, v in SETTINGS.items())
    print(f"server: {health['workers']} workers, engine {args.engine}, {settings}; "
          f"machine CPUs {os.cpu_count()} (shared with other work: timings are noisy)")
    print(f"{'phase':<13} {'s':>5}  {'probe answers':<26} {'probe latency p50/max':<22} {'peak memory':>11} "
          f"{'disk':>8}  attack")
    for name, seconds, probes, note, peak, disk in rows:
        statuses = Counter(status for _, status in probes)
        ok = [t for t, status in probes if status == 200]
        latency = f"{percentile(ok, 0.5):.2f} / {max(ok):.2f} s" if ok else "-"
        answered = f"{len(ok)}/{len(probes)} {dict(statuses) if len(ok) < len(probes) else ''}".strip()
        print(f"{name:<13} {seconds:5.0f}  {answered:<26} {latency:<22} {peak / 2**20:9.0f} MB "
              f"{disk / 2**20:6.1f} MB  {note}")


def _post_raw(origin: str, body: bytes) -> int | str:
    try:
        return requests.post(origin + contract.PATH, data=body, timeout=TIMEOUT,
                             headers={contract.KEY_HEADER: "wrong-key",
                                      "content-type": "multipart/form-data; boundary=zzz"}).status_code
    except requests.RequestException as error:
        return type(error).__name__


if __name__ == "__main__":
    main()
