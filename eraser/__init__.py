"""Eraser: remove objects from photos. Bytes in, a validated photo and mask, an engine, bytes out.

    >>> photo = Photo.open(open("street.jpg", "rb").read(), name="street.jpg")
    >>> mask = load_mask(open("mask.png", "rb").read(), photo.size)
    >>> open(photo.output_name(), "wb").write(erase(photo, mask).encode())

Or select the object in a box (x0, y0, x1, y1) first, and keep the fill from copying a region:

    >>> mask = select_object(photo.pixels, box=(120, 80, 560, 470))
    >>> keep = load_mask(open("keep.png", "rb").read(), photo.size, noun="keep-out mask")
    >>> erase(photo, mask, keep_out=keep)
"""

from . import engines
from .backends import Local, Remote, Result
from .errors import EngineError, EraserError, ImageError, MaskError, RemoteError
from .images import Photo
from .masks import fit_mask, load_mask, mask_from_drawing
from .pipeline import erase
from .select import select_object

__version__ = "0.1.0"  # the one version number: pyproject.toml reads it from here

__all__ = [
    "EngineError",
    "EraserError",
    "ImageError",
    "Local",
    "MaskError",
    "Photo",
    "Remote",
    "RemoteError",
    "Result",
    "engines",
    "erase",
    "fit_mask",
    "load_mask",
    "mask_from_drawing",
    "select_object",
]
