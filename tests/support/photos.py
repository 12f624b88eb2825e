"""Photos and masks the tests and benchmarks make themselves (no files to download)."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from bench.inputs import object_scene  # noqa: F401  (the selection tests' and bench's scene)


def scene(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A photo-like RGB scene: a sky gradient over a textured ground of bricks with grain."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    img = np.empty((height, width, 3), np.float32)
    img[..., 0] = 90 + 80 * y + 20 * x
    img[..., 1] = 140 + 40 * y
    img[..., 2] = 220 - 90 * y
    rows, cols = np.arange(height)[:, None], np.arange(width)[None, :]
    brick = ((rows % 40) < 3) | (((cols + 40 * ((rows // 40) % 2)) % 80) < 3)
    ground = (rows > height // 3) & np.ones((1, width), bool)
    img[ground] = (150, 80, 60)
    img[ground & brick] = (200, 190, 180)
    img += rng.normal(0, 6, (height, width, 1)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def blob(width: int, height: int, center: tuple[int, int], diameter: int) -> np.ndarray:
    """A bool mask with one filled disc: an object-sized mask."""
    mask = np.zeros((height, width), np.uint8)
    cv2.circle(mask, center, diameter // 2, 1, -1)
    return mask.astype(bool)


def encode(pixels: np.ndarray, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt, **options)
    return out.getvalue()
