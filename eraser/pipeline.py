"""Erase: a validated photo and mask through an engine, to a new photo."""

from __future__ import annotations

import numpy as np

from . import engines
from .errors import EngineError, EraserError, MaskError
from .images import Photo
from .masks import grow as grow_mask
from .masks import require_marks

DEFAULT_GROW = 5


def erase(
    photo: Photo,
    mask: np.ndarray,
    engine: str | engines.Engine = engines.DEFAULT,
    grow: int = DEFAULT_GROW,
    *,
    crop: bool = True,
) -> Photo:
    """The photo with the masked pixels (True / non-zero) filled in; everything else unchanged."""
    mask = np.asarray(mask)
    width, height = photo.size
    if mask.shape != (height, width):
        got = f"{mask.shape[1]}x{mask.shape[0]}" if mask.ndim == 2 else "not a single image"
        raise MaskError(f"The mask ({got}) does not match the photo ({width}x{height}). Paint the mask again.")
    mask = mask if mask.dtype == bool else mask != 0
    require_marks(mask)
    mask = grow_mask(mask, grow)
    chosen = engines.get(engine) if isinstance(engine, str) else engine
    try:
        filled = chosen.erase(photo.pixels, mask, crop=crop)
    except EraserError:
        raise
    except MemoryError as exc:
        raise EngineError("Erasing ran out of memory. Try a smaller photo or a smaller mask.") from exc
    except Exception as exc:  # an engine's own failure must reach the person as a message
        raise EngineError(
            f"The {chosen.name} engine failed on this photo ({type(exc).__name__}). Try another engine."
        ) from exc
    return photo.replace(filled)
