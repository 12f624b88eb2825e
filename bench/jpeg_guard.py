"""What the check of a block-by-block JPEG save costs (eraser/jpeg.py, `_decodes_alike`): 12 MP
JPEGs of each sampling, baseline and progressive, and one arithmetic-coded, with a 300 px blob
erased by telea, saved with the check and with it switched off, in turns; the background
read of the original is let finish first, as it does when the engine takes longer than it.

    python -m bench.jpeg_guard [--repeats 4]

Columns: opening the photo; the save with and without the check (medians) and their
difference; the check alone (the saved file decoded at 1/8 scale and compared, on the save's
path); the original decoded at 1/8 scale (in the background read during the erase up to
24 MP, on the save's path past it); the saved file's size over the original's.

Then what a file that cannot keep its blocks gets instead: compressed whole with its own tables
and sampling in its stored layout (`Source._whole`), against Photo.encode's own way for other
formats (quality 95, 4:4:4): mean |difference| from the original's decode away from the fill
(summed over the channels), size, time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

WIDTH, HEIGHT = 4000, 3000
BLOB = 300
# name -> Pillow options, or None for cjpeg -arithmetic
CASES = {
    "4:2:0 baseline": {"subsampling": 2},
    "4:2:0 progressive": {"subsampling": 2, "progressive": True},
    "4:4:4 baseline": {"subsampling": 0},
    "4:4:4 progressive": {"subsampling": 0, "progressive": True},
    "4:2:0 arithmetic": None,
}


def _inputs():
    import numpy as np

    from bench.inputs import blob, cjpeg, encode, scene

    pixels = scene(WIDTH, HEIGHT)
    mask = blob(WIDTH, HEIGHT, (WIDTH // 2, HEIGHT * 2 // 3), BLOB)
    pixels[mask] = (30, 30, 30)  # the object
    photos = {name: cjpeg(pixels, "-arithmetic", "-quality", "90") if options is None
              else encode(pixels, "JPEG", quality=90, **options) for name, options in CASES.items()}
    return photos, np.asarray(mask)


def _best(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _case(data: bytes, mask, repeats: int) -> dict:
    from eraser import Photo, erase, jpeg

    checked = jpeg.Source._decodes_alike
    saves: dict[bool, list[float]] = {True: [], False: []}
    opens = []
    for repeat in range(repeats):
        for check in (True, False) if repeat % 2 else (False, True):  # alternately first
            start = time.perf_counter()
            photo = Photo.open(data)
            opens.append(time.perf_counter() - start)
            result = erase(photo, mask, engine="telea")
            jpeg._READER.submit(int).result()  # one reader: queued after the original's read
            jpeg.Source._decodes_alike = checked if check else (lambda *args: True)
            try:
                start = time.perf_counter()
                out = result.encode()
                saves[check].append(time.perf_counter() - start)
            finally:
                jpeg.Source._decodes_alike = checked
    source = result.jpeg_source
    before = jpeg._preview(data)
    touched = jpeg._touched(jpeg._changed(result.pixels, source.pixels), 8 * source.factors[0], 8 * source.factors[1])
    return {
        "open": statistics.median(opens),
        "size": len(out) / len(data),
        "whole": _whole(data, result, touched),
        "with": statistics.median(saves[True]),
        "without": statistics.median(saves[False]),
        "check": _best(lambda: source._decodes_alike(out, before, touched), repeats),
        "original": _best(lambda: jpeg._preview(data), repeats),
        "kept": source._decodes_alike(out, before, touched),  # the block path, not a fallback
    }


def _whole(data: bytes, result, touched) -> dict:
    """Mean |difference| away from the fill, size ratio and time of each way to compress whole."""
    import dataclasses

    import numpy as np

    from eraser.images import Photo

    source = result.jpeg_source
    height, width = result.pixels.shape[:2]
    away = ~np.repeat(np.repeat(touched, 8 * source.factors[1], 0), 8 * source.factors[0], 1)[:height, :width]
    before = Photo.open(data).pixels.astype(np.int16)[away]
    found = {}
    for name, save in (("own", lambda: source._whole(result.pixels)),
                       ("q95", lambda: dataclasses.replace(result, jpeg_source=None).encode())):
        start = time.perf_counter()
        out = save()
        seconds = time.perf_counter() - start
        after = Photo.open(out).pixels.astype(np.int16)[away]
        found[name] = (float(np.abs(after - before).sum(axis=1).mean()), len(out) / len(data), seconds)
    return found


def _machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {system}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()

    photos, mask = _inputs()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {_machine()}; load average {os.getloadavg()[0]:.1f}")
    print(f"{WIDTH} x {HEIGHT} px, quality 90, {BLOB} px blob, telea; "
          f"save: medians of {args.repeats}, parts: best of {args.repeats}")
    print("| input | open (s) | save with the check (s) | without (s) | difference (s) "
          "| check: saved file at 1/8 + compare (s) | original at 1/8 (s) | size out/in | blocks kept |")
    print("|---|---|---|---|---|---|---|---|---|")
    results = {name: _case(data, mask, args.repeats) for name, data in photos.items()}
    for name, r in results.items():
        print(f"| {name} | {r['open']:.2f} | {r['with']:.3f} | {r['without']:.3f} | {r['with'] - r['without']:+.3f} "
              f"| {r['check']:.3f} | {r['original']:.3f} | {r['size']:.3f} | {'yes' if r['kept'] else 'NO'} |")
    print("\nCompressed whole instead: mean |difference| away from the fill / size out/in / time")
    print("| input | own tables and sampling, stored layout | quality 95, 4:4:4 |")
    print("|---|---|---|")
    for name, r in results.items():
        cells = [f"{diff:.2f} / {size:.2f} / {seconds:.2f} s" for diff, size, seconds in r["whole"].values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
