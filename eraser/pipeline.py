"""Erase: a validated photo and mask through an engine, to a new photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import engines
from .errors import EngineError, EraserError, MaskError
from .images import Photo
from .masks import fit_mask, prepare

DEFAULT_GROW = 5
# Share of each fill window (for a near-full mask: of the photo) that must stay unpainted.
# Measured with bench/nothing_left.py: PatchMatch left up to 40% of the fill black with a band
# of 3-7% of the photo left along one side, and none at 8% or more, whatever the photo's size;
# telea smears what is left or, with nothing, returns the photo unchanged.
MIN_LEFT = 0.10


def erase(
    photo: Photo,
    mask: np.ndarray,
    engine: str | engines.Engine = engines.DEFAULT,
    grow: int = DEFAULT_GROW,
    *,
    crop: bool = True,
    model_file: str | Path | None = None,
    keep_out: np.ndarray | None = None,
    read_ahead: bool = True,
) -> Photo:
    """The photo with the masked pixels (True / non-zero) filled in; everything else unchanged.

    `keep_out` (True / non-zero; the photo's size, or its shape at another scale) marks where the
    fill may not copy from. Where it overlaps the grown mask, the mask wins: those pixels are
    erased. `result.filled_by` names the engines that filled it, e.g. "MI-GAN" or "Telea, PatchMatch".

    `read_ahead`: a JPEG's coefficients are read beside the fill, so saving the result right after
    costs less. Off when the save comes later (the app shows the result first): the read would
    only compete with the fill for the CPU.
    """
    mask = prepare(mask, photo.size, grow)
    if keep_out is not None:
        keep_out = fit_mask(keep_out, photo.size, noun="keep-out mask") & ~mask
        keep_out = keep_out if keep_out.any() else None
    chosen = engines.get(engine, model_file) if isinstance(engine, str) else engine
    boxes = chosen.boxes(mask, crop=crop)  # found once: hundreds of specks take a while
    check_enough_left(mask, boxes, keep_out)
    if read_ahead:
        photo = photo.reading_jpeg()
    try:
        filled, used = chosen.erase(photo.pixels, mask, crop=crop, boxes=boxes, keep_out=keep_out)
    except EraserError:
        raise
    except MemoryError as exc:
        raise EngineError("Erasing ran out of memory. Try a smaller photo or a smaller mask.") from exc
    except Exception as exc:  # an engine's own failure must reach the person as a message
        raise EngineError(
            f"The {chosen.name} engine failed on this photo ({type(exc).__name__}). Try another engine."
        ) from exc
    return photo.replace(filled, filled_by=", ".join(used))


def check_enough_left(mask: np.ndarray, boxes: list, keep_out: np.ndarray | None = None) -> None:
    """Refuse a mask that leaves too little around a hole, in any of the windows that will be
    filled, to fill it from (a black or smeared "success" otherwise). Kept-out pixels (never
    under the mask) are not there to fill from either."""
    height, width = mask.shape
    for x0, y0, x1, y1 in boxes:
        area = (y1 - y0) * (x1 - x0)
        painted = np.count_nonzero(mask[y0:y1, x0:x1]) / area
        kept = 0.0 if keep_out is None else np.count_nonzero(keep_out[y0:y1, x0:x1]) / area
        left = 1.0 - painted - kept
        if left < MIN_LEFT:
            whole = area == width * height
            where = "of the photo" if whole else "around one of the painted areas"
            if 1.0 - painted >= MIN_LEFT:  # enough without the keep-out region
                raise MaskError(
                    f"The mask and the keep-out region together leave too little to fill from: only "
                    f"{left:.0%} {where} is neither, and at least {MIN_LEFT:.0%} is needed. Mark less "
                    "as keep-out."
                )
            raise MaskError(
                f"The mask leaves too little to fill from: only {left:.0%} {where} is unpainted "
                f"(after growing it), and at least {MIN_LEFT:.0%} is needed. Paint less, and erase "
                "the rest in another step."
            )
