"""Erase speed and memory: each engine on 1, 4, 12 and 16 MP photos with the same object mask
(a 300 px blob), plus full-frame PatchMatch (no crop) on the 12 MP photo, side by side.

    python -m bench.erase_speed [--repeats 5] [--skip-full-frame]

Each case runs in a fresh process, so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = {"1 MP": (1152, 864), "4 MP": (2304, 1728), "12 MP": (4000, 3000), "16 MP": (4096, 4096)}
BLOB = 300


def _make_inputs(folder: Path) -> None:
    import numpy as np

    from tests.photos import blob, encode, scene

    for label, (w, h) in SIZES.items():
        stem = label.replace(" ", "")
        pixels = scene(w, h)
        mask = blob(w, h, (w // 2, h * 2 // 3), BLOB)
        pixels[mask] = (30, 30, 30)  # the object
        (folder / f"{stem}.jpg").write_bytes(encode(pixels, "JPEG", quality=90))
        (folder / f"{stem}-mask.png").write_bytes(encode(mask.astype(np.uint8) * 255))


def _peak_rss_mb() -> float:
    # VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak over.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _run_case(photo_path: str, mask_path: str, engine: str, crop: bool, repeats: int) -> None:
    """In a child process: time decode + erase + encode, print JSON with medians and peak RSS."""
    from eraser import Photo, erase, load_mask

    totals, erases = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        photo = Photo.open(Path(photo_path).read_bytes(), name="bench.jpg")
        mask = load_mask(Path(mask_path).read_bytes(), photo.size)
        begin_erase = time.perf_counter()
        result = erase(photo, mask, engine=engine, crop=crop)
        erases.append(time.perf_counter() - begin_erase)
        result.encode()
        totals.append(time.perf_counter() - start)
        del photo, mask, result
    peak_mb = _peak_rss_mb()
    print(json.dumps({"total": statistics.median(totals), "erase": statistics.median(erases), "peak_mb": peak_mb}))


def _child(folder: Path, label: str, engine: str, crop: bool, repeats: int) -> dict:
    stem = label.replace(" ", "")
    args = [str(folder / f"{stem}.jpg"), str(folder / f"{stem}-mask.png"), engine, str(int(crop)), str(repeats)]
    done = subprocess.run([sys.executable, "-m", "bench.erase_speed", "--child", *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-full-frame", action="store_true")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        photo, mask, engine, crop, repeats = args.child
        _run_case(photo, mask, engine, crop == "1", int(repeats))
        return

    from eraser import engines

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _make_inputs(folder)
        rows = []
        for engine in engines.names():
            for label in SIZES:
                rows.append((engine, label, "crop", _child(folder, label, engine, True, args.repeats)))
        if not args.skip_full_frame:
            rows.append(("patchmatch", "12 MP", "full frame", _child(folder, "12 MP", "patchmatch", False, 1)))

    print(f"Object mask: a {BLOB} px blob. Times are medians of {args.repeats} runs (full frame: 1).")
    print("| engine | photo | mode | decode+erase+encode (s) | erase (s) | peak memory (MB) |")
    print("|---|---|---|---|---|---|")
    for engine, label, mode, r in rows:
        print(f"| {engine} | {label} | {mode} | {r['total']:.2f} | {r['erase']:.2f} | {r['peak_mb']:.0f} |")
    by = {(e, lbl, m): r for e, lbl, m, r in rows}
    for engine in engines.names():
        ratio = by[(engine, "16 MP", "crop")]["erase"] / by[(engine, "1 MP", "crop")]["erase"]
        total_ratio = by[(engine, "16 MP", "crop")]["total"] / by[(engine, "1 MP", "crop")]["total"]
        print(f"{engine}: 16 MP / 1 MP = {ratio:.2f} (erase), {total_ratio:.2f} (decode+erase+encode)")
    if ("patchmatch", "12 MP", "full frame") in by:
        full = by[("patchmatch", "12 MP", "full frame")]["total"]
        for engine in ("auto", "patchmatch"):
            print(f"full-frame PatchMatch / {engine} with crop, 12 MP: {full / by[(engine, '12 MP', 'crop')]['total']:.1f}x")


if __name__ == "__main__":
    main()
