"""A stand-in for streamlit_drawable_canvas, for AppTest and bench/ (the real one needs a browser)."""

import io
import types

import numpy as np
import streamlit as st
from PIL import Image


class FakeCanvas:
    """Stands in for streamlit_drawable_canvas, whose component needs a browser.

    Like the real CanvasResult, image_data is None until something is drawn and then an RGBA
    array at the canvas's display size; drawings belong to a canvas key, so a new key is empty.
    Like the real one, a canvas with a drawing has its state in st.session_state under its key
    (a test deletes it there to act out what leaving the page does).
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
            return types.SimpleNamespace(image_data=None, image_bytes=None, json_data=kwargs.get("initial_drawing"))
        width, height = kwargs["width"], kwargs["height"]
        rgba = np.zeros((height, width, 4), np.uint8)
        for x0, y0, x1, y1 in boxes:
            rgba[round(y0 * height) : round(y1 * height), round(x0 * width) : round(x1 * width)] = (255, 40, 80, 115)
        png = io.BytesIO()
        Image.fromarray(rgba).save(png, "PNG")
        json_data = {"objects": [{"box": box} for box in boxes]}
        st.session_state[kwargs["key"]] = {"drawing": {"raw": json_data}}
        return types.SimpleNamespace(image_data=rgba, image_bytes=png.getvalue(), json_data=json_data)
