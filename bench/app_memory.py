"""The app's memory with many visitors: 20 sessions, each a 12 MP photo and 6 erases.

    python -m bench.app_memory [--sessions 20] [--erases 6] [--format jpeg png] [--engine auto]
                               [--standin] [--unbounded]

Each format runs in a fresh process (its VmHWM is its own) that drives the real page with
AppTest and the stand-in canvas, one session after another, every session kept open to the
end as idle visitors' are: upload, then per erase a painted box (about 200 x 180 px) and a
click on Erase, through the page's own engine choice. Photos are 4000 x 3000 scenes made by
bench/inputs.py, each shifted so that no two sessions share a cache entry: JPEG at quality 86
(about 3 MB, a phone photo) and PNG (about 14 MB, the worst case). `--unbounded` lifts the
store's budget (memory without limit, no disk), as the app was before it had one.

The MI-GAN file cannot be downloaded here, so `auto` fills objects with PatchMatch, as on a
server without the model. `--standin` gives it MI-GAN's stand-in instead (bench/standin_models.py:
the real graph's shape, random weights, so its self-check is skipped and its fills are noise),
for the memory a deployment with the model would have.

After the peak is read, the same process measures what storing each step as only its changed
region (a lossless PNG crop of the box that differs from the step before) would weigh.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE = (4000, 3000)
QUALITY = 86
BOX = (0.05, 0.06)  # a painted object, in fractions of the photo's width and height
MB = 2**20
ROOT = Path(__file__).resolve().parents[1]


def _status(field: str, pid: int | str = "self") -> int:
    """A /proc/<pid>/status field in bytes (VmHWM: the peak resident memory since exec)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def _make_photos(folder: Path, fmt: str, count: int) -> list[Path]:
    import numpy as np

    from bench.inputs import encode, scene

    base = scene(*SIZE)
    paths = []
    for n in range(count):
        path = folder / f"photo{n}.{fmt}"
        options = {"quality": QUALITY} if fmt == "jpeg" else {}
        path.write_bytes(encode(np.roll(base, 37 * n, axis=1), "JPEG" if fmt == "jpeg" else "PNG", **options))
        paths.append(path)
    return paths


def _session(app_path: Path, fake, photo: Path, fmt: str, engine: str, erases: int, learned: bool):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(app_path), default_timeout=300).run()
    app.radio(key="eraser_engine_input").set_value(engine)  # the sidebar's engine choice
    app.run()
    app.file_uploader[0].set_value((photo.name, photo.read_bytes(), f"image/{fmt}"))
    app.run()
    for n in range(erases):
        x, y = 0.08 + 0.14 * n, 0.35 + 0.08 * (n % 3)
        fake.paint((x, y, x + BOX[0], y + BOX[1]))
        app.run()
        (erase,) = [b for b in app.button if b.label == "Erase"]
        erase.click()
        app.run()
        if app.exception or app.error or (learned and "MI-GAN" not in app.caption[0].value):
            raise RuntimeError(f"erase {n + 1} failed: {[e.value for e in (*app.exception, *app.error)]}")
    return app


def _crop_bytes(before: bytes, after: bytes) -> int:
    """A lossless PNG of the box where two steps' pixels differ: what a step would weigh if
    only its changed region were kept."""
    import numpy as np
    from PIL import Image

    a = np.asarray(Image.open(io.BytesIO(before)).convert("RGB"))
    b = np.asarray(Image.open(io.BytesIO(after)).convert("RGB"))
    rows, cols = np.nonzero((a != b).any(axis=2))
    if rows.size == 0:
        return 0
    crop = a[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    out = io.BytesIO()
    Image.fromarray(crop).save(out, "PNG", compress_level=3)
    return out.tell()


def child(folder: Path, fmt: str, sessions: int, erases: int, engine: str, unbounded: bool,
          standin: Path | None) -> dict:
    """One process, `sessions` visitors: its own peak and what its store holds."""
    import streamlit as st

    from bench.harness import Canvas
    from eraser import models, steps
    from eraser.errors import StepDropped

    if unbounded:
        steps.STORE = steps.StepStore(memory_bytes=2**40, disk_bytes=0)
    if standin:
        from eraser.engines import selfcheck

        selfcheck.check = lambda engine, file_name: None  # random weights cannot pass it; bench only
        models.ensure = lambda model, progress=None: standin
    fake = Canvas()
    sys.modules["streamlit_drawable_canvas"] = fake.module()
    st.cache_data.clear()
    st.cache_resource.clear()
    apps, start = [], time.perf_counter()
    for photo in sorted(folder.glob(f"photo*.{fmt}"))[:sessions]:
        apps.append(_session(ROOT / "app.py", fake, photo, fmt, engine, erases, bool(standin)))
    seconds = time.perf_counter() - start
    result = {
        "peak": _status("VmHWM"), "rss": _status("VmRSS"), "seconds": seconds,
        "in_memory": steps.STORE.in_memory, "on_disk": steps.STORE.on_disk,
    }
    # From here on the peak is read: steps may be read back from disk.
    edits = [app.session_state["eraser_edit"] for app in apps]
    result["undos"] = [sum(_kept(step, StepDropped) for step in edit.steps[: edit.position]) for edit in edits]
    files = [step.data for step in edits[-1].steps]  # the last session's: the most recently used
    result["step_bytes"] = statistics.median(len(f) for f in files)
    result["crop_bytes"] = statistics.median(_crop_bytes(a, b) for a, b in itertools.pairwise(files))
    return result


def _kept(step, dropped: type[Exception]) -> bool:
    try:
        return bool(step.data)
    except dropped:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--erases", type=int, default=6)
    parser.add_argument("--format", nargs="+", choices=("jpeg", "png"), default=["jpeg", "png"])
    parser.add_argument("--engine", default="auto", help="the page's engine choice (auto: the default)")
    parser.add_argument("--unbounded", action="store_true", help="no budget across sessions, as before")
    parser.add_argument("--standin", action="store_true", help="MI-GAN's stand-in fills the objects")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        (fmt,) = args.format
        standin = args.child / "migan_standin.onnx" if args.standin else None
        result = child(args.child, fmt, args.sessions, args.erases, args.engine, args.unbounded, standin)
        print(json.dumps(result))
        return

    from eraser.editor import MAX_STEPS

    rows = []
    with tempfile.TemporaryDirectory(prefix="eraser-bench-") as tmp:
        if args.standin:
            from bench.standin_models import build

            shutil.copy(build(Path(__file__).parent / "out", "migan")[0], Path(tmp) / "migan_standin.onnx")
        for fmt in args.format:
            photos = _make_photos(Path(tmp), fmt, args.sessions)
            command = [sys.executable, "-m", "bench.app_memory", "--child", tmp, "--format", fmt,
                       "--sessions", str(args.sessions), "--erases", str(args.erases), "--engine", args.engine]
            env = {**os.environ, "ERASER_OFFLINE": os.environ.get("ERASER_OFFLINE", "1")}
            flags = ["--unbounded"] * args.unbounded + ["--standin"] * args.standin
            done = subprocess.run(command + flags, env=env,
                                  capture_output=True, text=True, check=False)
            if done.returncode:
                sys.exit(f"the {fmt} run failed:\n{done.stderr[-3000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append((fmt, statistics.median(p.stat().st_size for p in photos), result))

    budget = "none (as before)" if args.unbounded else "one store, memory and disk capped"
    fills = "MI-GAN's stand-in for objects" if args.standin else "no learned model (objects: PatchMatch)"
    print(f"{args.sessions} sessions x {args.erases} erases, {SIZE[0]}x{SIZE[1]} photos, engine {args.engine}, "
          f"{fills}, budget: {budget}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print("| photo | file, MB | peak (VmHWM), MB | resident at the end, MB | steps in memory, MB "
          "| steps on disk, MB | undos left per session | a step, MB | its changed region (PNG), KB | run, s |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for fmt, size, r in rows:
        most = args.sessions * min(MAX_STEPS, args.erases)
        undos = f"{min(r['undos'])} to {max(r['undos'])} ({sum(r['undos'])} of {most} in all)"
        print(f"| {fmt.upper()} | {size / MB:.1f} | {r['peak'] / MB:.0f} | {r['rss'] / MB:.0f} "
              f"| {r['in_memory'] / MB:.0f} | {r['on_disk'] / MB:.0f} | {undos} | {r['step_bytes'] / MB:.1f} "
              f"| {r['crop_bytes'] / 1024:.0f} | {r['seconds']:.0f} |")


if __name__ == "__main__":
    main()
