"""Erase speed and memory: each engine on 1, 4, 12 and 16 MP photos with the same object mask
(a 300 px blob), plus full-frame PatchMatch (no crop) on the 12 MP photo, side by side; then the
JPEG path (saving without generation loss) on 12 MP JPEGs of each sampling, baseline and
progressive, against re-compressing the whole photo; then a 40 MP photo with a near-full mask.

    python -m bench.erase_speed [--repeats 5] [--skip-full-frame] [--jpeg-only]

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


# JPEG path cases: name -> (Pillow subsampling, progressive)
JPEGS = {"4:2:0 baseline": (2, False), "4:2:0 progressive": (2, True),
         "4:4:4 baseline": (0, False), "4:4:4 progressive": (0, True)}
NEAR_FULL = (7296, 5472)  # 39.9 MP, with a mask leaving only a band of 12% at the bottom
NEAR_FULL_SAMPLINGS = {"4:2:0": 2, "4:4:4": 0}


def _make_inputs(folder: Path, jpeg_only: bool) -> None:
    import numpy as np

    from bench.inputs import blob, encode, scene

    for label, (w, h) in SIZES.items():
        if jpeg_only and label != "12 MP":
            continue
        stem = label.replace(" ", "")
        pixels = scene(w, h)
        mask = blob(w, h, (w // 2, h * 2 // 3), BLOB)
        pixels[mask] = (30, 30, 30)  # the object
        (folder / f"{stem}.jpg").write_bytes(encode(pixels, "JPEG", quality=90))
        (folder / f"{stem}-mask.png").write_bytes(encode(mask.astype(np.uint8) * 255))
        if label == "12 MP":
            for name, (subsampling, progressive) in JPEGS.items():
                data = encode(pixels, "JPEG", quality=90, subsampling=subsampling, progressive=progressive)
                (folder / f"{_stem(name)}.jpg").write_bytes(data)
        del pixels
    w, h = NEAR_FULL
    pixels = scene(w, h)
    for sampling, subsampling in NEAR_FULL_SAMPLINGS.items():
        jpeg = encode(pixels, "JPEG", quality=90, subsampling=subsampling)
        (folder / f"40MP-{sampling.replace(':', '')}.jpg").write_bytes(jpeg)
    del pixels
    mask = np.ones((h, w), np.uint8) * 255
    mask[h * 88 // 100 :] = 0
    (folder / "40MP-mask.png").write_bytes(encode(mask))


def _stem(jpeg_case: str) -> str:
    return "12MP-" + jpeg_case.replace(":", "").replace(" ", "-")


def _peak_rss_mb() -> float:
    # VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak over.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _run_case(photo_path: str, mask_path: str, engine: str, crop: bool, repeats: int) -> None:
    """In a child process: time decode + erase + encode, print JSON with medians and peak RSS."""
    from eraser import Photo, erase, load_mask

    totals, erases, encodes = [], [], []
    data = Path(photo_path).read_bytes()
    for _ in range(repeats):
        photo = mask = result = out = None  # so the peak is one run's arrays, not two runs'
        start = time.perf_counter()
        photo = Photo.open(data, name="bench.jpg")
        mask = load_mask(Path(mask_path).read_bytes(), photo.size)
        begin_erase = time.perf_counter()
        result = erase(photo, mask, engine=engine, crop=crop)
        begin_encode = time.perf_counter()
        out = result.encode()
        end = time.perf_counter()
        totals.append(end - start)
        erases.append(begin_encode - begin_erase)
        encodes.append(end - begin_encode)
    peak_mb = _peak_rss_mb()
    print(json.dumps({"total": statistics.median(totals), "erase": statistics.median(erases),
                      "encode": statistics.median(encodes), "peak_mb": peak_mb, "size": len(out) / len(data),
                      **_fidelity(data, photo, result, out)}))


def _fidelity(data: bytes, photo, result, out: bytes) -> dict:
    """Mean |difference| (sum over channels) between the decoded input and output, away from
    the 16 x 16 blocks the fill touched; and the same for re-compressing the whole photo the old
    way (Pillow, quality 95, 4:2:0) with its time."""
    import io

    import numpy as np
    from PIL import Image

    def decoded(b: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(b)).convert("RGB")).astype(np.int16)

    changed = np.any(result.pixels != photo.pixels, axis=2)
    h, w = changed.shape
    grid = np.zeros((-(-h // 16) + 2, -(-w // 16) + 2), bool)
    ys, xs = np.nonzero(changed)
    for dy in (0, 1, 2):  # the touched MCUs and one MCU around them
        for dx in (0, 1, 2):
            grid[ys // 16 + dy, xs // 16 + dx] = True
    far = ~np.repeat(np.repeat(grid[1:-1, 1:-1], 16, 0), 16, 1)[:h, :w]
    start = time.perf_counter()
    buffer = io.BytesIO()
    Image.fromarray(result.pixels).save(buffer, "JPEG", quality=95)
    old_seconds = time.perf_counter() - start
    before = decoded(data)[far]
    return {"far": float(np.abs(decoded(out)[far] - before).sum(axis=1).mean()),
            "old_far": float(np.abs(decoded(buffer.getvalue())[far] - before).sum(axis=1).mean()),
            "old_encode": old_seconds, "old_size": buffer.tell() / len(data)}


def _child(folder: Path, label: str, engine: str, crop: bool, repeats: int, photo: str | None = None) -> dict:
    stem = label.replace(" ", "")
    args = [str(folder / f"{photo or stem}.jpg"), str(folder / f"{stem}-mask.png"), engine, str(int(crop)),
            str(repeats)]
    done = subprocess.run([sys.executable, "-m", "bench.erase_speed", "--child", *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-full-frame", action="store_true")
    parser.add_argument("--jpeg-only", action="store_true", help="only the JPEG path and the 40 MP near-full mask")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        photo, mask, engine, crop, repeats = args.child
        _run_case(photo, mask, engine, crop == "1", int(repeats))
        return

    from eraser import engines

    # The learned engines have their own bench (bench/learned_speed.py, with stand-in models).
    classic = [name for name in engines.names() if name not in engines.LEARNED]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _make_inputs(folder, args.jpeg_only)
        rows = []
        if not args.jpeg_only:
            for engine in classic:
                for label in SIZES:
                    rows.append((engine, label, "crop", _child(folder, label, engine, True, args.repeats)))
            if not args.skip_full_frame:
                rows.append(("patchmatch", "12 MP", "full frame", _child(folder, "12 MP", "patchmatch", False, 1)))
        jpegs = {name: _child(folder, "12 MP", "patchmatch", True, args.repeats, _stem(name)) for name in JPEGS}
        near_full = {sampling: _child(folder, "40 MP", "patchmatch", True, 1, f"40MP-{sampling.replace(':', '')}")
                     for sampling in NEAR_FULL_SAMPLINGS}

    if rows:
        _print_engines(rows, args.repeats)
    print(f"\nJPEG path: 12 MP JPEGs (quality 90; baseline with the standard Huffman tables, as most cameras write), "
          f"{BLOB} px blob, patchmatch, medians of {args.repeats}.")
    print("| input | decode+erase+encode (s) | erase (s) | save: JPEG path (s) | save: old q95 4:2:0 (s) "
          "| size out/in: JPEG path | old | mean abs diff away from the fill: JPEG path | old |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in jpegs.items():
        print(f"| {name} | {r['total']:.2f} | {r['erase']:.2f} | {r['encode']:.2f} | {r['old_encode']:.2f} "
              f"| {r['size']:.3f} | {r['old_size']:.3f} | {r['far']:.2f} | {r['old_far']:.2f} |")
    for sampling, r in near_full.items():
        print(f"\n40 MP ({NEAR_FULL[0]} x {NEAR_FULL[1]}) {sampling} JPEG, mask over all but a 12% band, patchmatch: "
              f"decode+erase+encode {r['total']:.1f} s, peak memory {r['peak_mb']:.0f} MB")


def _print_engines(rows: list, repeats: int) -> None:

    print(f"Object mask: a {BLOB} px blob. Times are medians of {repeats} runs (full frame: 1).")
    print("| engine | photo | mode | decode+erase+encode (s) | erase (s) | encode (s) | peak memory (MB) |")
    print("|---|---|---|---|---|---|---|")
    for engine, label, mode, r in rows:
        print(f"| {engine} | {label} | {mode} | {r['total']:.2f} | {r['erase']:.2f} | {r['encode']:.2f} "
              f"| {r['peak_mb']:.0f} |")
    by = {(e, lbl, m): r for e, lbl, m, r in rows}
    for engine in dict.fromkeys(e for e, _, m, _ in rows if m == "crop"):
        ratio = by[(engine, "16 MP", "crop")]["erase"] / by[(engine, "1 MP", "crop")]["erase"]
        total_ratio = by[(engine, "16 MP", "crop")]["total"] / by[(engine, "1 MP", "crop")]["total"]
        print(f"{engine}: 16 MP / 1 MP = {ratio:.2f} (erase), {total_ratio:.2f} (decode+erase+encode)")
    if ("patchmatch", "12 MP", "full frame") in by:
        full = by[("patchmatch", "12 MP", "full frame")]["total"]
        for engine in ("auto", "patchmatch"):
            ratio = full / by[(engine, "12 MP", "crop")]["total"]
            print(f"full-frame PatchMatch / {engine} with crop, 12 MP: {ratio:.1f}x")


if __name__ == "__main__":
    main()
