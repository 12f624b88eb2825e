"""Erase: a validated photo and mask through an engine, to a new photo."""

from __future__ import annotations

import numpy as np

from . import engines
from .errors import EngineError, EraserError
from .images import Photo
from .masks import prepare

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
    mask = prepare(mask, photo.size, grow)
    chosen = engines.get(engine) if isinstance(engine, str) else engine
    photo = photo.reading_jpeg()  # while the engine fills, so saving the result costs less
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
