"""A stand-in for streamlit_drawable_canvas, for AppTest and bench/ (the real one needs a browser)."""

import types

import numpy as np


class FakeCanvas:
    """Stands in for streamlit_drawable_canvas, whose component needs a browser.

    Like the real CanvasResult, image_data is None until something is drawn and then an RGBA
    array at the canvas's display size; drawings belong to a canvas key, so a new key is empty.
    """

    def __init__(self):
        self.calls: list[dict] = []
        self.drawings: dict[str, list[tuple[float, float, float, float]]] = {}

    @property
    def key(self) -> str:
        return self.calls[-1]["key"]

    def paint(self, box=(0.4, 0.4, 0.6, 0.6)):
        """Mark a box on the current canvas, in fractions of its width and height."""
        self.drawings.setdefault(self.key, []).append(box)

    def wipe(self):
        """What the canvas toolbar's reset sends: a drawing with nothing on it."""
        self.drawings[self.key] = []

    def module(self) -> types.ModuleType:
        """A module to put in sys.modules["streamlit_drawable_canvas"] before the page imports it."""
        module = types.ModuleType("streamlit_drawable_canvas")
        module.st_canvas = self.st_canvas
        return module

    def st_canvas(self, **kwargs):
        self.calls.append(kwargs)
        boxes = self.drawings.get(kwargs["key"])
        if boxes is None:
            return types.SimpleNamespace(image_data=None, json_data=None)
        width, height = kwargs["width"], kwargs["height"]
        rgba = np.zeros((height, width, 4), np.uint8)
        for x0, y0, x1, y1 in boxes:
            rgba[round(y0 * height) : round(y1 * height), round(x0 * width) : round(x1 * width)] = (255, 40, 80, 115)
        return types.SimpleNamespace(image_data=rgba, json_data={"objects": [{}] * len(boxes)})
