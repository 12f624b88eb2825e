"""Eraser: remove objects from photos. Bytes in, a validated photo and mask, an engine, bytes out.

    >>> photo = Photo.open(open("street.jpg", "rb").read(), name="street.jpg")
    >>> mask = load_mask(open("mask.png", "rb").read(), photo.size)
    >>> open(photo.output_name(), "wb").write(erase(photo, mask).encode())

Or select the object in a box (x0, y0, x1, y1) first, and keep the fill from copying a region:

    >>> mask = select_object(photo.pixels, box=(120, 80, 560, 470))
    >>> keep = load_mask(open("keep.png", "rb").read(), photo.size, noun="keep-out mask")
    >>> erase(photo, mask, keep_out=keep)

The names below are imported on first use (PEP 562), so `import eraser` costs next to nothing and
a command or page pays only for what it runs: no ONNX Runtime, say, until a learned engine does.
"""

from __future__ import annotations

import importlib

from .errors import EngineError, EraserError, ImageError, MaskError, RemoteError

__version__ = "0.1.0"  # the one version number: pyproject.toml reads it from here

# name -> the module that defines it ("" for the submodule of that name)
_LAZY = {
    "engines": "",
    "Local": "backends",
    "Remote": "backends",
    "Result": "backends",
    "Photo": "images",
    "fit_mask": "masks",
    "load_mask": "masks",
    "mask_from_drawing": "masks",
    "erase": "pipeline",
    "pipeline": "",
    "select_object": "select",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{_LAZY[name] or name}", __name__)
    value = module if not _LAZY[name] else getattr(module, name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
