"""Chooses an engine for each region by its shape: thin strokes to telea, objects to MI-GAN when
its model is present (or can be fetched) and passes its check, else to patchmatch."""

import cv2
import numpy as np

from ..errors import ModelError
from .base import Engine
from .migan import MiganEngine
from .patchmatch import PatchMatchEngine
from .telea import TeleaEngine


class AutoEngine(Engine):
    name = "auto"
    title = "Automatic"
    label = "Automatic (recommended)"
    model_title = MiganEngine.title
    # A window whose widest stroke is at most this half-width (px) counts as thin.
    thin_radius = 8.0

    def __init__(self):
        self.thin = TeleaEngine()
        self.thick: Engine | None = None
        self.context = max(self.thin.context, MiganEngine.context, PatchMatchEngine.context)

    def load(self, progress=None) -> Engine:
        if self.thick is None:
            try:
                self.thick = MiganEngine().load(progress)
            except ModelError as error:
                self.thick = PatchMatchEngine()
                self.note = f"{error} Objects are filled with PatchMatch instead."
        return self

    def engine_for(self, mask: np.ndarray) -> Engine:
        # The distance to the nearest kept pixel peaks at the stroke's half-width.
        padded = np.pad(mask.view(np.uint8), 1)
        half_width = cv2.distanceTransform(padded, cv2.DIST_L2, 3).max()
        return self.thin if half_width <= self.thin_radius else self.load().thick

    def inpaint(self, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.engine_for(mask).inpaint(rgb, mask)
