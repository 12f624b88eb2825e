"""Command-line speed: the whole `python -m eraser erase` process, from spawn to exit, on a 12 MP
JPEG and a 12 MP PNG with one 300 px object (JPEG in and out, PNG in and out), for the default
engine and the classic ones; and the imports of the library in a fresh interpreter, and the
command's start-up (`python -m eraser --version`).

    python -m bench.cli_speed [--runs 5] [--root CHECKOUT ...] [--engines auto patchmatch telea]
    python -m bench.cli_speed --png-saves [--runs 5]
    python -m bench.cli_speed --fill-sides 320 256 [--runs 5]
    python -m bench.cli_speed --stages [--runs 5] [--root CHECKOUT ...] [--engines auto]

Each `--root` is a checkout whose `eraser` is run (default: this one); with several, their runs
take turns (case by case: root A, root B, then the next case), so a busy machine slows each
about as much. Wall time is from spawn to exit; CPU time is the process's user + system time
(all its threads), which depends less on what else the machine runs; peak is its largest
resident size. Everything runs with ERASER_OFFLINE=1 and an empty models folder, as on a fresh
machine without network: the default engine fills objects with PatchMatch.

`--stages` splits the erase into the steps `eraser erase` takes (imports, decoding the photo, the
mask, the engine's fill, the save), each timed inside a fresh process run the command's way
(one OpenBLAS thread: a checkout without that setting gets it too), medians of --runs.

`--fill-sides` times PatchMatch alone, in this process, on the window the 12 MP case fills (the
object with its context around it) scaled to each working size (longest side, px), as the engine
scales it (eraser.engines.patchmatch.PatchMatchEngine.max_side: 320); CPU seconds.

`--png-saves` times the PNG save alone, in this process: this checkout's `Photo.encode("PNG")`
beside Pillow at compress_level 3 (the save before 5e6895d) and OpenCV at level 2 with its fast
filters called directly, on the 12 MP photo, the same photo without its grain, and the app's screenshot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WIDTH, HEIGHT = 4000, 3000
BLOB = 300
ROOT = Path(__file__).resolve().parent.parent
# Imports timed inside a fresh interpreter: the library with its default engine, and everything
# `eraser erase` imports before it reads a file (the command line module, then its engine).
IMPORTS = {
    "import eraser; engines.get('auto')": "import eraser; from eraser import engines; engines.get('auto')",
    "import eraser.cli; engines.get('auto')": "import eraser.cli; eraser.engines.get('auto')",
}
TIMED = "import time; start = time.perf_counter(); {}; print(time.perf_counter() - start)"
# The steps of `eraser erase PHOTO MASK -o OUT --engine ENGINE` (eraser/cli.py), timed one by one.
STAGES = """
import json, os, sys, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
marks = [(time.perf_counter(), time.process_time())]
photo_file, mask_file, out, engine = sys.argv[1:]
from eraser import cli
from eraser.backends import Local
from eraser.files import read
from eraser.images import Photo
from eraser.masks import load_mask, prepare
cli.engines.get(engine)  # its module, and those it needs
marks.append((time.perf_counter(), time.process_time()))
photo = Photo.open(read(photo_file, "image"))
marks.append((time.perf_counter(), time.process_time()))
mask = prepare(load_mask(read(mask_file, "mask"), photo.size), photo.size, 5)
marks.append((time.perf_counter(), time.process_time()))
backend = Local(engine).load()
result = backend.erase(photo, mask, grow=0)
marks.append((time.perf_counter(), time.process_time()))
open(out, "wb").write(result.photo.encode())
marks.append((time.perf_counter(), time.process_time()))
print(json.dumps([[b[0] - a[0], b[1] - a[1]] for a, b in zip(marks, marks[1:])]))
"""
STAGE_NAMES = ["imports", "decode the photo", "the mask", "fill (engine)", "save"]


def make_inputs(folder: Path) -> None:
    """The photos and the mask; run in a child, so this process stays small (see _run)."""
    import numpy as np

    from bench.inputs import blob, encode, scene

    pixels = scene(WIDTH, HEIGHT)
    mask = blob(WIDTH, HEIGHT, (WIDTH // 2, HEIGHT * 2 // 3), BLOB)
    pixels[mask] = (30, 30, 30)  # the object
    (folder / "photo.jpg").write_bytes(encode(pixels, "JPEG", quality=90))
    (folder / "photo.png").write_bytes(encode(pixels, "PNG"))
    (folder / "mask.png").write_bytes(encode(mask.astype(np.uint8) * 255))


def png_saves(runs: int) -> None:
    import io

    import cv2
    import numpy as np
    from PIL import Image

    from bench.inputs import scene
    from eraser import Photo

    grainy = scene(WIDTH, HEIGHT)
    pictures = {"12 MP photo (grain)": grainy, "12 MP, blurred (no grain)": cv2.GaussianBlur(grainy, (0, 0), 3),
                "app screenshot, 1366 x 768": np.asarray(Image.open(ROOT / "docs" / "screenshot.png").convert("RGB"))}

    def pillow(photo: Photo) -> bytes:
        out = io.BytesIO()
        photo.to_image().save(out, "PNG", compress_level=3)
        return out.getvalue()

    def opencv(photo: Photo) -> bytes:
        bgr = cv2.cvtColor(photo.pixels, cv2.COLOR_RGB2BGR)
        return cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 2, cv2.IMWRITE_PNG_FILTER,
                                          cv2.IMWRITE_PNG_FAST_FILTERS])[1].tobytes()

    saves = {"Pillow, level 3": pillow, "OpenCV, level 2, fast filters": opencv, "now": Photo.encode}
    print(f"PNG save alone, {runs} runs each, taking turns: CPU seconds (best; median), wall seconds (best; median), "
          f"size; load average at the end {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| picture | " + " | ".join(saves) + " |")
    print("|---|" + "---|" * len(saves))
    for name, pixels in pictures.items():
        photo = Photo.open(pillow(Photo(pixels, "PNG")))
        times: dict = {save: [] for save in saves}
        sizes = {}
        for _ in range(runs):
            for save in saves:
                start, wall = time.process_time(), time.perf_counter()
                data = saves[save](photo)
                times[save].append((time.process_time() - start, time.perf_counter() - wall))
                sizes[save] = len(data)
                assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), pixels)  # lossless, all
        cells = []
        for save, rows in times.items():
            cpu, wall = [r[0] for r in rows], [r[1] for r in rows]
            cells.append(f"CPU {min(cpu):.3f}; {statistics.median(cpu):.3f} s, wall {min(wall):.3f}; "
                         f"{statistics.median(wall):.3f} s, {sizes[save] / 1e6:.2f} MB")
        print(f"| {name} | " + " | ".join(cells) + " |")


def fill_sides(sides: list[int], runs: int) -> None:
    import cv2
    import numpy as np

    from bench.inputs import blob, scene
    from eraser.engines import base, get
    from eraser.masks import grow
    from eraser.pipeline import DEFAULT_GROW

    pixels = scene(WIDTH, HEIGHT)
    mask = blob(WIDTH, HEIGHT, (WIDTH // 2, HEIGHT * 2 // 3), BLOB)
    pixels[mask] = (30, 30, 30)
    mask = grow(mask, DEFAULT_GROW)  # as the command grows it before the fill
    engine = get("patchmatch")
    (x0, y0, x1, y1), = engine.boxes(mask)
    window, hole = pixels[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    print(f"PatchMatch alone on the 12 MP case's {x1 - x0} x {y1 - y0} window, CPU seconds over {runs} runs "
          f"(best; median); load average at the end {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| working size (px) | CPU (s) | hole pixels filled |")
    print("|---|---|---|")
    for side in sides:
        scale = side / max(window.shape[:2])
        size = (round(window.shape[1] * scale), round(window.shape[0] * scale))
        small, small_hole = cv2.resize(window, size, interpolation=cv2.INTER_AREA), base._touched(hole, size)
        times = []
        for _ in range(runs):
            start = time.process_time()
            engine.inpaint(small, small_hole)
            times.append(time.process_time() - start)
        print(f"| {side} | {min(times):.3f}; {statistics.median(times):.3f} | {np.count_nonzero(small_hole):,} |")


def _run(command: list[str], root: Path, env: dict) -> tuple[float, float, float, str]:
    """Wall s, CPU s and peak MB of one process, and its stdout. The peak is the child's
    ru_maxrss, which counts this (small) process's resident size at the exec as a floor."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # the child's own usage, threads included
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode:
            raise SystemExit(f"{' '.join(command)} failed in {root}:\n{err.read().decode()[-2000:]}")
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().decode()


def _cases(folder: Path, engines: list[str]) -> dict[str, tuple[list[str], Path | None]]:
    """Case name -> (command, the file it writes or None)."""
    cases = {name: ([sys.executable, "-c", TIMED.format(code)], None) for name, code in IMPORTS.items()}
    cases["python -m eraser --version"] = ([sys.executable, "-m", "eraser", "--version"], None)
    for kind, ext in (("JPEG", "jpg"), ("PNG", "png")):
        for engine in engines:
            output = folder / f"out.{ext}"
            command = [sys.executable, "-m", "eraser", "erase", str(folder / f"photo.{ext}"),
                       str(folder / "mask.png"), "-o", str(output), "--engine", engine]
            cases[f"{kind} in and out, {engine}"] = (command, output)
    return cases


def stages(roots: list[Path], folder: Path, env: dict, engines: list[str], runs: int) -> None:
    import json

    times: dict = {}
    for run in range(runs + 1):
        for ext in ("jpg", "png"):
            for engine in engines:
                for root in roots:
                    command = [sys.executable, "-c", STAGES, str(folder / f"photo.{ext}"), str(folder / "mask.png"),
                               str(folder / f"out.{ext}"), engine]
                    steps = json.loads(_run(command, root, env)[3])
                    if run:
                        times.setdefault((ext, engine, root), []).append(steps)
    print(f"Steps of eraser erase inside one process, wall; CPU seconds (all threads), medians of {runs}; load "
          f"average at the end {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| input and output, engine | checkout | " + " | ".join(STAGE_NAMES) + " |")
    print("|---|---|" + "---|" * len(STAGE_NAMES))
    for (ext, engine, root), rows in times.items():
        cells = " | ".join(f"{statistics.median(row[i][0] for row in rows):.3f}; "
                           f"{statistics.median(row[i][1] for row in rows):.3f}" for i in range(len(STAGE_NAMES)))
        print(f"| {ext.upper()}, {engine} | {root.name} | {cells} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", type=Path, action="append", help="a checkout to run (repeatable; default: this one)")
    parser.add_argument("--engines", nargs="+", default=["auto", "patchmatch", "telea"])
    parser.add_argument("--png-saves", action="store_true", help="time the PNG save alone, in this process")
    parser.add_argument("--stages", action="store_true", help="time the steps of an erase inside one process")
    parser.add_argument("--fill-sides", type=int, nargs="+", metavar="PX", help="time PatchMatch at these sizes")
    parser.add_argument("--make-inputs", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_inputs:
        make_inputs(args.make_inputs)
        return
    if args.png_saves:
        png_saves(args.runs)
        return
    if args.fill_sides:
        fill_sides(args.fill_sides, args.runs)
        return
    roots = [root.resolve() for root in args.root or [ROOT]]
    with tempfile.TemporaryDirectory(prefix="eraser-cli-bench-") as tmp:
        folder = Path(tmp)
        subprocess.run([sys.executable, "-m", "bench.cli_speed", "--make-inputs", tmp], cwd=ROOT, check=True)
        (folder / "models").mkdir()
        # Compiled modules are cached, as an installed package has them, outside the checkouts.
        env = {**os.environ, "ERASER_OFFLINE": "1", "ERASER_MODELS_DIR": str(folder / "models"),
               "PYTHONPYCACHEPREFIX": str(folder / "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("PYTHONPATH", None)  # `python -m` and `-c` import the eraser of the folder they run in
        for root in roots:
            found = _run([sys.executable, "-c", "import eraser; print(eraser.__file__)"], root, env)[3].strip()
            if not found.startswith(str(root)):
                raise SystemExit(f"{root}: python imports eraser from {found}")
        if args.stages:
            stages(roots, folder, env, args.engines, args.runs)
            return
        cases = _cases(folder, args.engines)
        results: dict = {(root, name): [] for root in roots for name in cases}
        sizes: dict = {}
        for run in range(args.runs + 1):  # the first, untimed, fills the caches (files, compiled modules)
            for name, (command, output) in cases.items():
                for root in roots:
                    wall, cpu, peak, out = _run(command, root, env)
                    if output is not None:
                        source = folder / f"photo{output.suffix}"
                        sizes[(root, name)] = output.stat().st_size / source.stat().st_size
                        output.unlink()
                    if run:
                        timed = name in IMPORTS  # the child printed its imports' own time
                        results[(root, name)].append((wall, cpu, peak, float(out) if timed else None))
        _print(roots, cases, results, sizes, args.runs)


def _print(roots: list[Path], cases: dict, results: dict, sizes: dict, runs: int) -> None:
    load = os.getloadavg()
    print(f"12 MP ({WIDTH} x {HEIGHT}), one {BLOB} px object; medians of {runs} (range); load average "
          f"at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores")
    print("| case | checkout | wall (s) | CPU (s) | peak (MB) | size out / in, or the imports' own time |")
    print("|---|---|---|---|---|---|")
    for name in cases:
        for root in roots:
            rows = results[(root, name)]
            walls = [r[0] for r in rows]
            last = (f"{sizes[(root, name)]:.3f}" if (root, name) in sizes
                    else f"{statistics.median(r[3] for r in rows):.3f} s" if rows[0][3] is not None else "")
            print(f"| {name} | {root.name} | {statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f}) "
                  f"| {statistics.median(r[1] for r in rows):.2f} | {max(r[2] for r in rows):.0f} | {last} |")


if __name__ == "__main__":
    main()
