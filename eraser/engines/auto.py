"""Chooses an engine for each region by its shape: thin strokes to telea, objects to patchmatch."""

import cv2
import numpy as np

from .base import Engine
from .patchmatch import PatchMatchEngine
from .telea import TeleaEngine


class AutoEngine(Engine):
    name = "auto"
    summary = "chooses by the mask's shape: thin strokes to telea, objects to patchmatch (default)"
    # A window whose widest stroke is at most this half-width (px) counts as thin.
    thin_radius = 8.0

    def __init__(self):
        self.thin, self.thick = TeleaEngine(), PatchMatchEngine()
        self.context = max(self.thin.context, self.thick.context)

    def engine_for(self, mask: np.ndarray) -> Engine:
        # The distance to the nearest kept pixel peaks at the stroke's half-width.
        padded = np.pad(mask.view(np.uint8), 1)
        half_width = cv2.distanceTransform(padded, cv2.DIST_L2, 3).max()
        return self.thin if half_width <= self.thin_radius else self.thick

    def inpaint(self, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.engine_for(mask).inpaint(rgb, mask)
