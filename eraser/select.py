"""Snap to object: a box around an object, or a rough stroke over it, becomes the object's outline.

OpenCV's GrabCut does the cut. Its cost grows with the pixels it sees (over half a second per
megapixel and iteration here), so it runs on the region around the box scaled down to about
WORK_PIXELS. The outline found there is scaled back up and its edge, a band a few working pixels
wide, is decided again at the photo's own resolution: each pixel in the band goes to the object
or to the background, whichever's colours (sampled just inside and just outside the band) it is
nearer. The mask is then grown a little so that halos are erased with the object.
"""

from __future__ import annotations

import math
from numbers import Real

import cv2
import numpy as np

from . import masks
from .errors import MaskError

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (end-exclusive), in photo pixels

DEFAULT_GROW = 3  # px: JPEG ringing and soft edges around an object
WORK_PIXELS = 100_000  # GrabCut's working size: about 0.3 s for 4 iterations here
ITERATIONS = 4
MIN_BOX = 8  # px on each side: less holds no object to tell from its background
# Background kept around a box (share of its longer side): GrabCut learns its colours there.
BOX_MARGIN = 0.1
# Around a rough stroke (share of its longer side): the object may stick out of it that far.
ROUGH_MARGIN = 0.25
FRAME = 0.02  # of the region's longer side: the border of a stroke's region taken as background
# A colour as near the background's typical colours as this percentage of the background
# itself is typical of it (see _start_from_colours). Chosen on 10 generated scenes and 4 JPEGs
# (quality 50 to 90), each with a loose, a middling, a tight and a too tight box and two sloppy
# strokes: 80 let whole bricks in.
TYPICAL = 95
# A colour this many times rarer away from a box than close to it is not the background's.
NEAR_ONLY = 0.25
LEFT_BY_COLOUR = 0.05  # of the guess: less left by colour and the guess is taken as it is
MIN_BACKGROUND = 0.01  # of the region: less and there is no background to learn
SPECK = 0.005  # pieces smaller than this share of the box are noise, not the object
HOLE = 0.02  # holes smaller than this share of the object are filled: no islands left behind
# Colour histograms of the object and of what surrounds it closer than this (Bhattacharyya
# distance, 0 = the same) mean nothing stands out: two halves of one even texture measure under
# 0.01, the generated objects on bricks 0.7 to 1.
MIN_CONTRAST = 0.25
EDGE = 2  # working pixels either side of the outline decided again at full resolution
SAMPLES = 20_000  # colours sampled on each side of the edge


def parse_box(text: str) -> tuple[float, float, float, float]:
    """'X0,Y0,X1,Y1' as four numbers (not yet checked against a photo)."""
    parts = [part.strip() for part in str(text).split(",")]
    try:
        numbers = tuple(float(part) for part in parts)
    except ValueError:
        numbers = ()
    if len(numbers) != 4 or not all(map(math.isfinite, numbers)):
        raise MaskError(f"The box '{text}' is not four numbers: give it as X0,Y0,X1,Y1 in photo pixels, "
                        "e.g. 10,20,300,400.")
    return numbers


def check_box(box, size: tuple[int, int]) -> Box:
    """The box as whole pixels inside a photo of `size` (width, height), or MaskError."""
    width, height = size
    values = tuple(box) if isinstance(box, (tuple, list)) else ()
    numbers = all(isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) for v in values)
    if len(values) != 4 or not numbers:
        raise MaskError(f"The box {box!r} is not four numbers: give it as X0,Y0,X1,Y1 in photo pixels.")
    x0, y0, x1, y1 = (round(v) for v in values)
    if x1 < x0 or y1 < y0:
        raise MaskError(
            f"The box {x0},{y0},{x1},{y1} is inside out: give the top-left corner first (X0,Y0), "
            "then the bottom-right (X1,Y1)."
        )
    if x1 == x0 or y1 == y0:
        raise MaskError(f"The box {x0},{y0},{x1},{y1} is empty: draw it around the object, "
                        f"at least {MIN_BOX} pixels each way.")
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        raise MaskError(
            f"The box {x0},{y0},{x1},{y1} reaches outside the photo, which is {width}x{height}: "
            f"keep X between 0 and {width} and Y between 0 and {height}."
        )
    if x1 - x0 < MIN_BOX or y1 - y0 < MIN_BOX:
        raise MaskError(f"The box {x0},{y0},{x1},{y1} is too small: draw it at least {MIN_BOX} pixels "
                        "each way around the object.")
    return x0, y0, x1, y1


def select_object(pixels: np.ndarray, box=None, rough: np.ndarray | None = None,
                  grow: int = DEFAULT_GROW) -> np.ndarray:
    """The mask (bool, the photo's height x width) of the object in `box` (x0, y0, x1, y1) and/or
    under `rough` (a mask painted roughly over it), grown by `grow` pixels.

    With a box only, everything outside it is background. With a rough mask only, the object is
    sought under it and a little around it. With both, the rough mask is the first guess and
    nothing outside the box is the object. MaskError when nothing stands out there.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"pixels must be an HxWx3 uint8 array, as Photo.pixels is, not {pixels.shape} {pixels.dtype}")
    height, width = pixels.shape[:2]
    if box is None and rough is None:
        raise MaskError("Draw a box around the object or paint roughly over it to select it.")
    box = None if box is None else check_box(box, (width, height))
    if rough is not None:
        rough = masks.fit_mask(rough, (width, height), noun="rough mask")
        if not rough.any():
            raise MaskError("The rough mask is empty: paint roughly over the object to select it.")
    masks.grow(np.zeros((1, 1), bool), grow)  # refuses a bad amount before any work
    where = "in the box" if box is not None else "under the rough mask"

    region = _region((width, height), box, rough)
    x0, y0, x1, y1 = region
    crop = pixels[y0:y1, x0:x1]
    scale = min(1.0, math.sqrt(WORK_PIXELS / crop.shape[0] / crop.shape[1]))
    work_size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = cv2.resize(crop, work_size, interpolation=cv2.INTER_AREA) if scale < 1 else np.ascontiguousarray(crop)
    labels, under = _first_guess(region, work_size, box, rough)
    allowed = labels != cv2.GC_BGD
    _start_from_colours(small, labels)
    if not (labels == cv2.GC_PR_FGD).any():
        raise MaskError(_nothing(where))

    object_ = _tidy(_cut(small, labels, where), np.count_nonzero(allowed), under)
    _check_stands_out(small, object_, where)

    if scale < 1:
        object_ = _refine(crop, small, object_)
        allowed = _up(allowed, crop.shape) if box is None else _box_area(region, box)
    mask = np.zeros((height, width), bool)
    mask[y0:y1, x0:x1] = object_ & allowed
    return masks.grow(mask, grow)


def _region(size: tuple[int, int], box: Box | None, rough: np.ndarray | None) -> Box:
    """The part of the photo GrabCut looks at: the guess and a margin around it."""
    width, height = size
    if box is not None:
        x0, y0, x1, y1 = box
        share = BOX_MARGIN
    else:
        x, y, w, h = cv2.boundingRect(rough.view(np.uint8))
        x0, y0, x1, y1 = x, y, x + w, y + h
        share = ROUGH_MARGIN
    margin = max(16, round(share * max(x1 - x0, y1 - y0)))
    return max(x0 - margin, 0), max(y0 - margin, 0), min(x1 + margin, width), min(y1 + margin, height)


def _first_guess(region: Box, work_size: tuple[int, int], box: Box | None,
                 rough: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """GrabCut's starting labels at the working size, and the rough mask there (if any)."""
    x0, y0, x1, y1 = region
    work_w, work_h = work_size
    under = None
    if rough is not None:  # any working pixel the stroke touches is under it
        under = cv2.resize(rough[y0:y1, x0:x1].view(np.uint8) * 255, work_size, interpolation=cv2.INTER_AREA) > 0
    if box is not None:  # outside the box is background; inside, the object or the stroke over it
        labels = np.full((work_h, work_w), cv2.GC_BGD, np.uint8)
        sx, sy = work_w / (x1 - x0), work_h / (y1 - y0)
        inside = (slice(math.floor((box[1] - y0) * sy), math.ceil((box[3] - y0) * sy)),
                  slice(math.floor((box[0] - x0) * sx), math.ceil((box[2] - x0) * sx)))
        labels[inside] = cv2.GC_PR_FGD if under is None else cv2.GC_PR_BGD
        if under is not None:
            labels[inside][under[inside]] = cv2.GC_PR_FGD
    else:  # the stroke may be a little off either way: only the region's frame is background
        labels = np.where(under, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        frame = max(1, round(FRAME * max(work_size)))
        labels[:frame] = cv2.GC_BGD if y0 > 0 else labels[:frame]
        labels[-frame:] = cv2.GC_BGD if y1 < rough.shape[0] else labels[-frame:]
        labels[:, :frame] = cv2.GC_BGD if x0 > 0 else labels[:, :frame]
        labels[:, -frame:] = cv2.GC_BGD if x1 < rough.shape[1] else labels[:, -frame:]
    if not (labels == cv2.GC_PR_FGD).any():
        raise MaskError("The rough mask lies outside the box: paint over the object inside the box, "
                        "or leave one of them out.")
    if np.count_nonzero(labels == cv2.GC_BGD) < max(64, MIN_BACKGROUND * labels.size):
        what = "box" if box is not None else "rough mask"
        raise MaskError(
            f"The {what} covers (nearly) the whole photo, so there is no background to tell the object "
            f"from: draw it closer around one object."
        )
    return labels, under


def _start_from_colours(small: np.ndarray, labels: np.ndarray) -> None:
    """Relabel the first guess by colour before GrabCut learns from it.

    Pixels of the guess as near the background's typical colours as TYPICAL percent of the
    background itself (by a 5 x 5 majority) start as background: otherwise GrabCut's object
    model starts with the background's colours in it, and often keeps whole stretches of them
    (the bricks along an object's edge) however long it runs. Colours found mostly close to a
    box are not the background's: they are the object sticking out of a box drawn a little too
    tight. When colour leaves next to nothing of the guess, it is taken as it is.

    Then, around a rough stroke, pixels nearer the colours left under the stroke than the
    background's start as object: a stroke that misses part of the object does not teach the
    background model the object's colours.
    """
    sure = labels == cv2.GC_BGD
    away = cv2.distanceTransform(sure.view(np.uint8), cv2.DIST_L2, 3)
    far = sure & (away >= away.max() / 2)
    near = sure & ~far
    if np.count_nonzero(far) < 64 or not near.any():
        far = near = sure
    far_colours = small[far]
    background = every = _centres(small[sure], 8)
    if not (labels == cv2.GC_PR_BGD).any():  # a box alone: keep out colours found mostly near it
        far_share = np.bincount(_nearest(far_colours, background), minlength=len(background)) / len(far_colours)
        near_colours = small[near]
        near_share = np.bincount(_nearest(near_colours, background), minlength=len(background)) / len(near_colours)
        background = background[far_share >= NEAR_ONLY * near_share]
    typical = np.percentile(_distance(far_colours[:: max(1, len(far_colours) // SAMPLES)], background), TYPICAL)
    like = _distance(small.reshape(-1, 3), background).reshape(labels.shape) <= typical
    # The background's odd pixels (grain, JPEG blocks) would seed the object's model all the same.
    like = cv2.medianBlur(like.view(np.uint8) * 255, 5) > 0
    guess = labels == cv2.GC_PR_FGD
    if np.count_nonzero(guess & ~like) < LEFT_BY_COLOUR * np.count_nonzero(guess):
        return
    labels[guess & like] = cv2.GC_PR_BGD
    inside = small[labels == cv2.GC_PR_FGD]
    around = (labels == cv2.GC_PR_BGD) & ~guess
    if not around.any():
        return
    colours = small[around]
    nearer = _distance(colours, _centres(inside, 4)) < _distance(colours, every)
    labels[around] = np.where(nearer, cv2.GC_PR_FGD, cv2.GC_PR_BGD)


def _cut(small: np.ndarray, labels: np.ndarray, where: str) -> np.ndarray:
    background, foreground = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(0)  # GrabCut starts from k-means: the same input gives the same outline
    try:
        cv2.grabCut(small, labels, None, background, foreground, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # too few distinct colours to model the object or its background
        raise MaskError(_nothing(where)) from None
    return (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)


def _tidy(object_: np.ndarray, region: int, under: np.ndarray | None) -> np.ndarray:
    """Drop specks (a few pixels that happen to match) and, with a rough stroke, pieces it does
    not touch (something else of the same colour nearby); fill small holes (a highlight or a
    shadow inside the object would otherwise stay standing in the middle of the erased area)."""
    _, parts, stats, _ = cv2.connectedComponentsWithStats(object_.view(np.uint8), connectivity=8)
    keep = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= max(4, SPECK * region))
    if under is not None:
        keep = np.intersect1d(keep, parts[under])
    keep = keep[keep > 0]
    object_ = np.isin(parts, keep)
    if not object_.any():
        return object_
    _, parts, stats, _ = cv2.connectedComponentsWithStats((~object_).view(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([parts[0], parts[-1], parts[:, 0], parts[:, -1]]))
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < HOLE * np.count_nonzero(object_))
    holes = np.setdiff1d(small[small > 0], border)
    return object_ | np.isin(parts, holes) if holes.size else object_


def _check_stands_out(small: np.ndarray, object_: np.ndarray, where: str) -> None:
    if not object_.any():
        raise MaskError(_nothing(where))
    *_, w, h = cv2.boundingRect(object_.view(np.uint8))
    reach = max(3, round(0.05 * max(w, h)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    around = (cv2.dilate(object_.view(np.uint8), kernel) > 0) & ~object_
    if np.count_nonzero(around) < 16:
        raise MaskError(_nothing(where))
    if cv2.compareHist(_histogram(small[object_]), _histogram(small[around]), cv2.HISTCMP_BHATTACHARYYA) < MIN_CONTRAST:
        raise MaskError(_nothing(where))


def _histogram(colours: np.ndarray) -> np.ndarray:
    hist = cv2.calcHist([colours.reshape(-1, 1, 3)], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3)
    return cv2.normalize(hist, hist, 1, 0, cv2.NORM_L1)


def _nothing(where: str) -> str:
    return (
        f"No object stands out {where}: what is there looks like what is around it. Draw the box "
        "around the whole of one object that differs from its surroundings, or paint the object "
        "with the brush."
    )


def _up(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return cv2.resize(mask.view(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST).view(bool)


def _box_area(region: Box, box: Box) -> np.ndarray:
    inside = np.zeros((region[3] - region[1], region[2] - region[0]), bool)
    inside[box[1] - region[1] : box[3] - region[1], box[0] - region[0] : box[2] - region[0]] = True
    return inside


def _refine(crop: np.ndarray, small_crop: np.ndarray, object_: np.ndarray) -> np.ndarray:
    """The working-size outline at the crop's own size, its edge decided again pixel by pixel."""
    height, width = crop.shape[:2]
    small = object_.view(np.uint8)
    step = np.ones((3, 3), np.uint8)
    inner, outer = cv2.erode(small, step, iterations=EDGE), cv2.dilate(small, step, iterations=EDGE)
    # Each side's colours, sampled just inside and just outside the band at the working size.
    inside = small_crop[(inner > 0) & (cv2.erode(inner, step, iterations=EDGE) == 0)]
    outside = small_crop[(cv2.dilate(outer, step, iterations=EDGE) > 0) & (outer == 0)]
    if len(inside) < 16 or len(outside) < 16:  # too thin to sample: a smooth edge, not a staircase
        return cv2.resize(small * 255, (width, height), interpolation=cv2.INTER_LINEAR) > 127
    band = _up((outer > 0) & (inner == 0), crop.shape)
    decided = _up(inner > 0, crop.shape).view(np.uint8)
    edge = crop[band]
    decided[band] = _distance(edge, _centres(inside)) < _distance(edge, _centres(outside))
    # A median over 5 x 5 settles single pixels the colours could not tell apart.
    return np.where(band, cv2.medianBlur(decided * 255, 5) > 0, decided > 0)


def _centres(colours: np.ndarray, count: int = 4) -> np.ndarray:
    """A few typical colours (k-means centres)."""
    colours = colours[:: max(1, len(colours) // SAMPLES)].astype(np.float32)
    count = min(count, len(colours))
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_MAX_ITER + cv2.TERM_CRITERIA_EPS, 10, 1.0)
    return cv2.kmeans(colours, count, None, criteria, 1, cv2.KMEANS_PP_CENTERS)[2]


def _distance(colours: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each colour's squared distance to the nearest centre."""
    return _squared(colours, centres).min(axis=0)


def _nearest(colours: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The index of each colour's nearest centre."""
    return _squared(colours, centres).argmin(axis=0)


def _squared(colours: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared distances, a row per centre and a column per colour: |a - b|^2 = |a|^2 - 2 a.b +
    |b|^2 as one matrix product, reduced over rows (fast in NumPy, unlike over short columns)."""
    colours = colours.reshape(-1, 3).astype(np.float32)
    centres = centres.astype(np.float32)
    squared = centres @ colours.T
    squared *= -2
    squared += (centres * centres).sum(axis=1)[:, None]
    squared += np.einsum("ij,ij->i", colours, colours)[None, :]
    return squared
