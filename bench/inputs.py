"""The benchmarks' own inputs: photo-like scenes and object-sized masks, made here (no files).

The recipe is the one the figures in docs/ were measured with; it lives with the benchmarks so a
change to a test's pictures never changes what a benchmark times.
"""

from __future__ import annotations

import io
import subprocess

import cv2
import numpy as np
from PIL import Image


def scene(width: int, height: int, seed: int = 0) -> np.ndarray:
    """RGB pixels: a sky gradient over a ground of bricks, with grain (so JPEG and fills cost as on a photo)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.ogrid[0:height, 0:width]  # open grids: no full-size index arrays at 40 MP
    y, x = np.float32(rows / max(height - 1, 1)), np.float32(cols / max(width - 1, 1))
    img = np.empty((height, width, 3), np.float32)
    for channel, value in enumerate((90 + 80 * y + 20 * x, 140 + 40 * y, 220 - 90 * y)):
        img[..., channel] = value
    brick = ((rows % 40) < 3) | (((cols + 40 * ((rows // 40) % 2)) % 80) < 3)
    ground = np.broadcast_to(rows > height // 3, (height, width))
    img[ground] = (150, 80, 60)
    img[ground & brick] = (200, 190, 180)
    img += rng.normal(0, 6, (height, width, 1)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def blob(width: int, height: int, center: tuple[int, int], diameter: int) -> np.ndarray:
    """A bool mask of one filled disc."""
    mask = np.zeros((height, width), np.uint8)
    cv2.circle(mask, center, diameter // 2, 1, -1)
    return mask.astype(bool)


def encode(pixels: np.ndarray, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt, **options)
    return out.getvalue()


def cjpeg(pixels: np.ndarray, *args: str) -> bytes:
    """libjpeg's own encoder (cjpeg, from libjpeg-turbo-progs), for what Pillow cannot write:
    arithmetic coding, or a baseline JPEG of one scan per component (`-scans`)."""
    ppm = io.BytesIO()
    Image.fromarray(pixels).save(ppm, "PPM")
    return subprocess.run(["cjpeg", *args], input=ppm.getvalue(), capture_output=True, check=True).stdout


def object_scene(width: int, height: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The brick scene with a saturated, shaded, lobed object on it: (pixels, its true outline)."""
    pixels = scene(width, height, seed)
    rng = np.random.default_rng(seed + 1)
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    radii = min(width, height) / 4 * (1 + 0.25 * np.sin(3 * angles) + 0.08 * rng.standard_normal(24))
    centre = (width / 2, height * 3 / 5)
    corners = np.stack([centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)], axis=1)
    outline = np.zeros((height, width), np.uint8)
    cv2.fillPoly(outline, [corners.round().astype(np.int32)], 1)
    outline = outline.astype(bool)
    shade = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    colour = np.array([230, 30, 200], np.float32) + shade * np.array([-60, 20, -40], np.float32)
    colour = colour + rng.normal(0, 5, (height, width, 1)).astype(np.float32)
    pixels[outline] = np.clip(colour, 0, 255).astype(np.uint8)[outline]
    return pixels, outline


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


def box_around(outline: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    x, y, w, h = cv2.boundingRect(outline.view(np.uint8))
    return x - margin, y - margin, x + w + margin, y + h + margin


def sloppy_stroke(outline: np.ndarray, reach: int) -> np.ndarray:
    """Painted roughly over the object: `reach` px past it, and shifted so one side of it is missed."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    stroke = cv2.dilate(outline.view(np.uint8), kernel)
    return np.roll(stroke, (-reach * 3 // 2, reach * 3 // 2), axis=(0, 1)) > 0
