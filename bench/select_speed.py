"""Snap-to-object speed on a 12 MP photo: a box around a large object, a box over most of the
photo, and a rough stroke over the object; medians of N runs of `select_object` on the decoded
photo (wall and CPU seconds), then decode + select + save of the mask as the CLI does it, and
how well the outline matches the object drawn into the scene (IoU, grown and not).

    python -m bench.select_speed [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

SIZE = (4000, 3000)


def _cases(outline):
    import cv2

    from bench.inputs import box_around, sloppy_stroke

    height, width = outline.shape
    _, y, w, h = cv2.boundingRect(outline.view("uint8"))
    return {
        f"box around the object ({w} x {h} px)": {"box": box_around(outline, 60)},
        "box over most of the photo": {"box": (width // 20, y - 60, width - width // 20, height - 20)},
        "rough stroke over the object": {"rough": sloppy_stroke(outline, 60)},
    }


def _timed(call, given: dict, repeats: int) -> tuple[float, float, object]:
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = call(**given)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from bench.inputs import encode, iou, object_scene
    from eraser import Photo, select_object
    from eraser.masks import encode_mask
    from eraser.select import DEFAULT_GROW, WORK_PIXELS

    pixels, outline = object_scene(*SIZE)
    data = encode(pixels, "JPEG", quality=90)
    load = os.getloadavg()[0]
    print(f"{SIZE[0]} x {SIZE[1]} px ({SIZE[0] * SIZE[1] / 1e6:.0f} MP) JPEG, {os.cpu_count()} cores, "
          f"working size {WORK_PIXELS / 1e6:.2f} MP, medians of {args.repeats}; load average {load:.1f} at the start")
    print("| selection | select (s) | CPU (s) | decode + select + save mask (s) | IoU grown 3 px | IoU not grown |")
    print("|---|---|---|---|---|---|")
    photo = Photo.open(data)
    for name, given in _cases(outline).items():
        wall, cpu, mask = _timed(lambda **g: select_object(photo.pixels, **g), given, args.repeats)
        whole, _, _ = _timed(lambda **g: encode_mask(select_object(Photo.open(data).pixels, **g)), given, args.repeats)
        tight = select_object(photo.pixels, **given, grow=0)
        scores = f"{iou(mask, outline):.3f} | {iou(tight, outline):.3f}"
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {whole:.2f} | {scores} |")
    print(f"(grown by {DEFAULT_GROW} px, the default); load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
