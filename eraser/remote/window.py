"""Fit a photo to the contract's limits, and put the service's answer back into the original.

A photo over the limits is not refused: we send a window around the mask (downscaled only when
the window itself is over the limits) and paste the answer back under the mask, at full size.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from eraser import contract
from eraser.masks import encode_mask

# Context around the mask that the service sees; inpainting borrows texture from it.
MIN_MARGIN = 64
# Each step shrinks the window to 3/4; twenty steps reach 0.3 % of the side, far below any need.
MAX_SHRINK_STEPS = 20


@dataclass(frozen=True)
class Upload:
    image: bytes
    mask: bytes
    box: tuple[int, int, int, int]  # (left, top, right, bottom) of the original that was sent
    size: tuple[int, int]  # (width, height) actually sent; smaller than the box when downscaled
    windowed: bool  # False: the whole photo went at full size


def _encode(pixels: np.ndarray, fmt: str, quality: int | None = None) -> bytes:
    # Encoded from pixels, not from the original file: no EXIF (GPS, orientation) leaves the machine,
    # and the pixels match the mask, which is drawn on the upright photo.
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt, **({"quality": quality} if quality else {}))
    return buf.getvalue()


def _fits(data: bytes, size: tuple[int, int]) -> bool:
    return len(data) <= contract.SAFE_FILE_BYTES and max(size) <= contract.MAX_SIDE


def _ladder(lossless: bool) -> list[tuple[str, int | None]]:
    # A lossless photo goes as PNG while that fits; JPEG is the fallback that always gets smaller.
    return ([("PNG", None)] if lossless else []) + [("JPEG", 92), ("JPEG", 80)]


def _window(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    top, bottom, left, right = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    margin = max(MIN_MARGIN, max(bottom - top, right - left) // 2)
    height, width = mask.shape
    return (max(0, left - margin), max(0, top - margin), min(width, right + margin), min(height, bottom + margin))


def plan_upload(pixels: np.ndarray, mask: np.ndarray, lossless: bool) -> Upload:
    """What to send for this photo: the whole photo when it fits, else the smallest change that fits."""
    height, width = mask.shape
    ladder = _ladder(lossless)
    first_format, first_quality = ladder[0]
    whole = _encode(pixels, first_format, first_quality)
    if _fits(whole, (width, height)):
        return Upload(whole, encode_mask(mask), (0, 0, width, height), (width, height), windowed=False)

    left, top, right, bottom = _window(mask)
    crop, crop_mask = pixels[top:bottom, left:right], mask[top:bottom, left:right]
    box_w, box_h = right - left, bottom - top
    scale = min(1.0, contract.MAX_SIDE / max(box_w, box_h))
    for _ in range(MAX_SHRINK_STEPS):
        size = (max(1, int(box_w * scale)), max(1, int(box_h * scale)))
        if scale < 1.0:
            sent = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
            # Any coverage counts as "erase", so downscaling never drops a thin stroke.
            sent_mask = cv2.resize(crop_mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 0
        else:
            sent, sent_mask = crop, crop_mask
        for fmt, quality in ladder:
            data = _encode(sent, fmt, quality)
            if _fits(data, size):
                return Upload(data, encode_mask(sent_mask), (left, top, right, bottom), size, windowed=True)
        scale *= 0.75
    raise AssertionError("a 0.3 % window always fits the limits")  # unreachable for any image PIL can hold


def paste_back(pixels: np.ndarray, mask: np.ndarray, upload: Upload, answer: np.ndarray) -> np.ndarray:
    """The original pixels, with the service's pixels only where the mask says erase."""
    left, top, right, bottom = upload.box
    box_size = (right - left, bottom - top)
    if answer.shape[1::-1] != box_size:
        answer = cv2.resize(answer, box_size, interpolation=cv2.INTER_CUBIC)
    out = pixels.copy()
    region, region_mask = out[top:bottom, left:right], mask[top:bottom, left:right]
    region[region_mask] = answer[region_mask]
    return out
