"""The engine contract, and the crop strategy written once for every engine.

An engine only fills the holes of a small RGB window (`inpaint`). The base class finds a
window around each masked region, scales it down to the engine's working size when it is
larger, and pastes the filled pixels back under the mask alone, so cost follows the mask
and every pixel outside it comes back bit-identical.

A keep-out mask ("don't copy from here") travels with each window and its scaling. Engines that
can exclude sources themselves say so in `inpaint_keeping_out`; every other engine has those
pixels hidden: filled like the hole (from the rest), and never pasted back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (end-exclusive)

# Every window costs an engine call with a fixed overhead: past this many, the regions are
# grouped by a 3 x 3 grid over the photo, so hundreds of specks cost at most nine calls.
MAX_WINDOWS = 12


class Engine(ABC):
    name: str
    title: str  # what a person is told filled their photo
    label: str  # how the app offers it, in a person's words
    model_title = ""  # the learned model this engine fills objects with, if any
    note = ""  # once loaded: why it does not fill as chosen (a model could not be had), or ''
    # Windows larger than this (longest side, px) are scaled down before `inpaint`.
    max_side: int | None = None
    # Context kept around a region, as a share of its size, and at least `min_margin` px.
    context: float = 0.5
    min_margin: int = 24

    @abstractmethod
    def inpaint(self, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Fill the pixels of `rgb` (HxWx3 uint8) where `mask` (HxW bool) is True."""

    def inpaint_keeping_out(self, rgb: np.ndarray, mask: np.ndarray, keep_out: np.ndarray) -> np.ndarray:
        """Fill like `inpaint`, copying nothing from where `keep_out` (HxW bool, never under `mask`)
        is True. This engine has no way of its own: those pixels are hidden, filled as hole too."""
        return self.inpaint(rgb, mask | keep_out)

    def load(self, progress: Callable[[int, int], None] | None = None) -> Engine:
        """Get ready to erase (a learned engine finds, fetches and checks its model here, with
        `progress(done, total)` bytes); EngineError if it cannot. Classic engines have nothing to do."""
        return self

    def fetches(self) -> bool:
        """Whether `load` would download a model file (and so wants a progress bar to show)."""
        return False

    def engine_for(self, mask: np.ndarray) -> Engine:
        """The engine that fills a window with this mask; composite engines choose here."""
        return self

    def boxes(self, mask: np.ndarray, *, crop: bool = True) -> list[Box]:
        """The windows `erase` fills: one around each group of regions, or the whole frame."""
        height, width = mask.shape
        return windows(mask, self.context, self.min_margin) if crop else [(0, 0, width, height)]

    def erase(self, pixels: np.ndarray, mask: np.ndarray, *, crop: bool = True,
              boxes: list[Box] | None = None, keep_out: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
        """A copy of `pixels` with the masked pixels filled, and the titles of the engines that
        filled them. `crop=False` works on the full frame; `boxes` as `self.boxes` gave them;
        nothing is copied from where `keep_out` is True, unless it is under `mask` too."""
        out = np.array(pixels, copy=True)
        boxes = self.boxes(mask, crop=crop) if boxes is None else boxes
        used: list[str] = []
        for x0, y0, x1, y1 in boxes:
            window, hole = out[y0:y1, x0:x1], mask[y0:y1, x0:x1]
            keep = None if keep_out is None else keep_out[y0:y1, x0:x1]
            engine = self.engine_for(hole)
            filled = engine._fill(window, hole, engine.max_side if crop else None, keep)
            np.copyto(window, filled, where=hole[..., None])
            used += [engine.title] if engine.title not in used else []
        return out, used

    def _fill(self, rgb: np.ndarray, mask: np.ndarray, max_side: int | None,
              keep_out: np.ndarray | None = None) -> np.ndarray:
        if keep_out is not None:
            keep_out = keep_out & ~mask  # the hole wins
            keep_out = keep_out if keep_out.any() else None
        height, width = mask.shape
        scale = max_side / max(height, width) if max_side else 1.0
        if scale >= 1.0:
            return self._inpaint(np.ascontiguousarray(rgb), mask, keep_out)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        # A pixel touched by the hole at all is a hole: no masked colour leaks into the fill.
        small_hole = _touched(mask, size)
        if keep_out is None:
            filled = self.inpaint(small, small_hole)
        else:  # likewise a pixel touched by the keep-out region is kept out, unless it is hole
            small_keep = _touched(keep_out, size) & ~small_hole
            filled = self._inpaint(small, small_hole, small_keep)
            # The upscale below reads a few pixels around each one: smooth the kept-out pixels
            # over first, or their colours would bleed into the edge of the fill.
            filled = cv2.inpaint(filled, small_keep.view(np.uint8), 3, cv2.INPAINT_TELEA)
        return _add_grain(cv2.resize(filled, (width, height), interpolation=cv2.INTER_CUBIC), rgb, mask, scale,
                          keep_out)

    def _inpaint(self, rgb: np.ndarray, mask: np.ndarray, keep_out: np.ndarray | None) -> np.ndarray:
        if keep_out is None or not keep_out.any():
            return self.inpaint(rgb, mask)
        return self.inpaint_keeping_out(rgb, mask, keep_out)


def _touched(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`mask` scaled down to `size`, where any pixel it touches at all is True."""
    return cv2.resize(mask.view(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 0


# The grain is measured from at most this many rows of a window (in bands spread over it) and
# added band by band, so no float copy of a whole window (a whole 40 MP photo, for a near-full
# mask) is ever made.
_GRAIN_ROWS = 384
_GRAIN_PIXELS = 100_000
_BAND = 32


def _high_pass(rgb: np.ndarray, sigma: float) -> np.ndarray:
    smooth = cv2.GaussianBlur(rgb, (0, 0), sigma).astype(np.float32)
    return rgb.astype(np.float32) - smooth


def _grain_sample(rgb: np.ndarray, where: np.ndarray, sigma: float) -> np.ndarray:
    """High-passed pixels of `rgb` under `where`, from bands of rows spread over the rows that
    have any: each band is blurred with enough rows around it to match a whole-frame blur."""
    rows = np.flatnonzero(where.any(axis=1))
    if rows.size == 0:
        return np.empty((0, 3), np.float32)
    # The bands that hold any of those rows (np.unique would cost numpy.ma's import, 10 ms, here).
    starts = np.flatnonzero(np.bincount(rows // _BAND)) * _BAND
    starts = starts[np.linspace(0, starts.size - 1, min(starts.size, _GRAIN_ROWS // _BAND)).astype(int)]
    pad = int(np.ceil(4 * sigma)) + 1
    per_band = -(-_GRAIN_PIXELS // len(starts))  # a median of more costs time, not accuracy
    samples = []
    for y0 in starts:
        y1 = min(y0 + _BAND, rgb.shape[0])
        top, bottom = max(y0 - pad, 0), min(y1 + pad, rgb.shape[0])
        band = _high_pass(rgb[top:bottom], sigma)[y0 - top : y1 - top][where[y0:y1]]
        samples.append(band[:: -(-len(band) // per_band)])
    return np.concatenate(samples)


def _median(values: np.ndarray) -> np.ndarray:
    """np.median(values, axis=0), the same numbers, without its check of float input for NaN,
    which imports numpy.ma on first use (0.02 s of CPU time here, in every erase that adds grain)."""
    count = len(values)
    if count == 0:
        return np.full(values.shape[1:], np.nan, values.dtype)
    half = count // 2
    middle = [half] if count % 2 else [half - 1, half]
    part = np.partition(values, middle, axis=0)
    return np.mean(part[middle[0] : half + 1], axis=0)


def _add_grain(fill: np.ndarray, rgb: np.ndarray, mask: np.ndarray, scale: float,
               keep_out: np.ndarray | None = None) -> np.ndarray:
    """Give an upscaled fill the fine grain of the photo around it, so it does not look smudged.

    Grain finer than the working scale is lost by the round trip: measure it around the hole
    (median absolute deviation, which ignores the few strong edges), outside any keep-out
    region, and add what is missing. `fill` is the upscaled copy, changed in place.
    """
    sigma = 0.5 / scale
    known, hole = ~mask if keep_out is None else ~(mask | keep_out), mask
    if np.count_nonzero(known) < 64:
        return fill

    def spread(pixels: np.ndarray) -> np.ndarray:
        return 1.4826 * _median(np.abs(pixels - _median(pixels)))

    missing = spread(_grain_sample(rgb, known, sigma)) ** 2 - spread(_grain_sample(fill, hole, sigma)) ** 2
    strength = np.sqrt(np.clip(missing, 0, None)).astype(np.float32)
    if strength.max() < 0.5:
        return fill
    # One noise field for all channels, as sensor grain is mostly in brightness; drawn band by
    # band from one seeded generator, so the same input gets the same grain.
    rng = np.random.default_rng(0)
    holes = hole.any(axis=1)
    for y0 in range(0, fill.shape[0], 64):
        if not holes[y0 : y0 + 64].any():
            continue  # only pixels under the mask are pasted back
        band = fill[y0 : y0 + 64]
        noise = rng.standard_normal(band.shape[:2], dtype=np.float32)[..., None] * strength
        np.clip(band + noise, 0, 255, out=noise)
        band[:] = noise
    return fill


def windows(mask: np.ndarray, context: float, min_margin: int) -> list[Box]:
    """Non-overlapping boxes that each hold one or more masked regions with context around them."""
    if not mask.any():
        return []
    height, width = mask.shape
    bx, by, bw, bh = cv2.boundingRect(mask.view(np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        mask[by : by + bh, bx : bx + bw].view(np.uint8), connectivity=8
    )
    boxes = []
    for x, y, w, h, _ in stats[1:count]:
        margin = max(min_margin, round(context * max(w, h)))
        x0, y0 = bx + x - margin, by + y - margin
        boxes.append((max(x0, 0), max(y0, 0), min(x0 + w + 2 * margin, width), min(y0 + h + 2 * margin, height)))
    boxes = _merge(boxes, width, height)
    if len(boxes) > MAX_WINDOWS:
        boxes = _merge(_group(boxes, -(-max(width, height) // 3)), width, height)
    return boxes


def _group(boxes: list[Box], cell: int) -> list[Box]:
    """One box around all the boxes whose centres fall in the same grid cell."""
    groups: dict[tuple[int, int], Box] = {}
    for box in boxes:
        key = ((box[0] + box[2]) // 2 // cell, (box[1] + box[3]) // 2 // cell)
        old = groups.get(key, box)
        groups[key] = (min(old[0], box[0]), min(old[1], box[1]), max(old[2], box[2]), max(old[3], box[3]))
    return list(groups.values())


def _merge(boxes: list[Box], width: int, height: int) -> list[Box]:
    """Merge overlapping boxes until none overlap, so every pixel is filled once."""
    # Paint only the boxes' joint extent, not the whole photo.
    ox, oy = min(b[0] for b in boxes), min(b[1] for b in boxes)
    cover = np.zeros((max(b[3] for b in boxes) - oy, max(b[2] for b in boxes) - ox), np.uint8)
    while True:
        cover[:] = 0
        for x0, y0, x1, y1 in boxes:
            cover[y0 - oy : y1 - oy, x0 - ox : x1 - ox] = 1
        count, _, stats, _ = cv2.connectedComponentsWithStats(cover, connectivity=4)
        merged = [(ox + x, oy + y, ox + x + w, oy + y + h) for x, y, w, h, _ in stats[1:count]]
        if len(merged) == len(boxes):
            return merged
        boxes = merged
