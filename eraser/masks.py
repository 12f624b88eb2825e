"""Masks: which pixels to erase (True = erase), from a file or a drawing, fitted to the photo."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from .errors import MaskError
from .images import decode, palette_pixels

MAX_GROW = 100


def load_mask(data: bytes, size: tuple[int, int], noun: str = "mask") -> np.ndarray:
    """A mask file (white or any non-zero = erase) as a bool array of the photo's size. `noun`
    names it in errors (a keep-out mask, a rough mask)."""
    return fit_mask(read_mask(data, noun), size, noun)


def read_mask(data: bytes, noun: str = "mask") -> np.ndarray:
    """A mask file (white or any non-zero = erase) as a bool array of its own size.

    A transparent-background PNG carries its strokes in the alpha channel: use it, or a mask
    drawn in black on transparent would come out empty.
    """
    image = decode(bytes(data), noun=noun, error=MaskError)
    if "A" in image.getbands() or "transparency" in image.info:
        if image.mode in ("P", "PA"):  # looked up by hand: Pillow refuses some palettes
            alpha = palette_pixels(image)[1]
        else:
            alpha = np.asarray(image.convert("RGBA"))[..., 3]
        if alpha.min() < 255:
            return alpha > 0
    if image.mode in ("L", "1", "I", "I;16", "F"):
        return np.asarray(image) > 0
    return np.asarray(image.convert("RGB")).max(axis=2) > 0


def encode_mask(mask: np.ndarray) -> bytes:
    """A mask as a white-on-black PNG, which load_mask reads back."""
    out = io.BytesIO()
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)).save(out, "PNG")
    return out.getvalue()


def mask_from_drawing(rgba: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A canvas drawing (RGBA at display size; painted = alpha > 0) at the photo's size."""
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise MaskError("The drawing could not be read. Clear the mask and paint it again.")
    return fit_mask(rgba[..., 3] > 0, size)


def _same_shape(mask_w: int, mask_h: int, width: int, height: int) -> bool:
    # A display-size drawing rounds its height or width: allow one pixel at the mask's scale.
    return abs(mask_w * height - mask_h * width) <= max(width, height)


def fit_mask(mask: np.ndarray, size: tuple[int, int], noun: str = "mask") -> np.ndarray:
    """The mask at the photo's size: used as is, or scaled (nearest) when only the scale differs."""
    mask = np.asarray(mask)
    width, height = size
    if mask.ndim != 2 or mask.size == 0:
        raise MaskError(f"The {noun} could not be read: it must be a single image. Paint or upload it again.")
    mask_h, mask_w = mask.shape
    if (mask_w, mask_h) == (width, height):
        return mask.astype(bool, copy=False)
    if not _same_shape(mask_w, mask_h, width, height):
        raise MaskError(
            f"The {noun} is {mask_w}x{mask_h} pixels but the photo is {width}x{height}. "
            f"Use a {noun} of the same size (or at least the same shape) as the photo."
        )
    scaled = cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    return scaled.astype(bool)


def prepare(mask: np.ndarray, size: tuple[int, int], pixels: int) -> np.ndarray:
    """The mask checked against the photo's size, refused when empty, and grown by `pixels`:
    what every backend, local or remote, erases."""
    mask = np.asarray(mask)
    width, height = size
    if mask.shape != (height, width):
        got = f"{mask.shape[1]}x{mask.shape[0]}" if mask.ndim == 2 else "not a single image"
        raise MaskError(f"The mask ({got}) does not match the photo ({width}x{height}). Paint the mask again.")
    mask = mask if mask.dtype == bool else mask != 0
    if not mask.any():
        raise MaskError("The mask is empty: there is nothing to erase. Paint over what should go.")
    return grow(mask, pixels)


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """The mask widened by `pixels` so that halos around an object are erased too."""
    check_grow(pixels)
    if pixels == 0 or not mask.any():
        return mask
    # Work on the mask's bounding box only, so the cost follows the mask, not the photo.
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    height, width = mask.shape
    x0, y0 = max(x - pixels, 0), max(y - pixels, 0)
    x1, y1 = min(x + w + pixels, width), min(y + h + pixels, height)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    grown = mask.copy()
    grown[y0:y1, x0:x1] = cv2.dilate(mask[y0:y1, x0:x1].view(np.uint8), kernel) > 0
    return grown


def edge(mask: np.ndarray, depth: float) -> np.ndarray:
    """The mask's pixels at most `depth` px from an unmasked one (beyond the frame counts as unmasked)."""
    distance = cv2.distanceTransform(np.pad(mask.view(np.uint8), 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    return mask & (distance <= depth)


def check_grow(pixels: int) -> None:
    if not 0 <= pixels <= MAX_GROW:
        raise MaskError(f"Grow must be between 0 and {MAX_GROW} pixels, not {pixels}.")
