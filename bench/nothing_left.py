"""How much of a photo must stay unpainted for a fill to be a fill: masks that leave a band
along one side, along two sides, or one corner, of 3 to 15% of the photo, filled by each engine
with the "too little left" check off; each cell is the share of the fill that came out black
(max channel < 20) and the mean error against the true scene under the mask.

    python -m bench.nothing_left [--size 800x600]

pipeline.MIN_LEFT is chosen from this table.
"""

from __future__ import annotations

import argparse

import numpy as np

SHARES = (0.03, 0.05, 0.06, 0.07, 0.08, 0.10, 0.12, 0.15)


def _shapes(width: int, height: int):
    def band_bottom(share):
        mask = np.ones((height, width), bool)
        mask[-max(1, round(share * height)) :] = False
        return mask

    def band_left(share):
        mask = np.ones((height, width), bool)
        mask[:, : max(1, round(share * width))] = False
        return mask

    def top_and_bottom(share):
        mask = np.ones((height, width), bool)
        rows = max(1, round(share * height / 2))
        mask[:rows] = mask[-rows:] = False
        return mask

    def corner(share):
        mask = np.ones((height, width), bool)
        side = round((share * width * height) ** 0.5)
        mask[:side, :side] = False
        return mask

    return {"band at the bottom": band_bottom, "band at the left": band_left,
            "top and bottom bands": top_and_bottom, "top-left corner": corner}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="800x600")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))

    from bench.inputs import encode, scene
    from eraser import Photo, engines

    pixels = scene(width, height, seed=1)
    photo = Photo.open(encode(pixels))
    print(f"{width} x {height} px; cell: black share of the fill / mean abs error (0-255)")
    print("| engine | what is left | " + " | ".join(f"{s:.0%} left" for s in SHARES) + " |")
    print("|---|---|" + "---|" * len(SHARES))
    for name in ("patchmatch", "telea"):
        engine = engines.get(name)
        for shape, make in _shapes(width, height).items():
            cells = []
            for share in SHARES:
                mask = make(share)
                filled = engine.erase(photo.pixels, mask)[mask]
                black = (filled.max(axis=1) < 20).mean()
                error = np.abs(filled.astype(int) - pixels[mask].astype(int)).mean()
                cells.append(f"{black:.0%} / {error:.0f}")
            print(f"| {name} | {shape} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
