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

    def fetches(self) -> bool:
        return self.thick is None and MiganEngine().fetches()

    def engine_for(self, mask: np.ndarray) -> Engine:
        return self.thin if thin(mask) else self.load().thick

    def inpaint(self, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.engine_for(mask).inpaint(rgb, mask)


def thin(mask: np.ndarray, scale: float = 1.0) -> bool:
    """Whether a mask's widest stroke is thin enough for the thin-line engine: the distance to
    the nearest kept pixel peaks at the stroke's half-width. `scale`: the mask's size over the
    photo's (a canvas's drawing), since the limit is in photo pixels."""
    padded = np.pad(mask.astype(np.uint8), 1)
    return float(cv2.distanceTransform(padded, cv2.DIST_L2, 3).max()) <= AutoEngine.thin_radius * scale
