"""AppTest fixtures: the app with a stand-in canvas, and photos to upload."""

import sys
import types
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.photos import encode, scene

APP = Path(__file__).resolve().parents[2] / "app.py"


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


@pytest.fixture
def canvas(monkeypatch):
    fake = FakeCanvas()
    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = fake.st_canvas
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
    return fake


@pytest.fixture
def app(canvas):
    """The app at its first page; caches start empty so counts and timings are per test."""
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(str(APP), default_timeout=30).run()


@pytest.fixture(scope="session")
def photo_jpeg() -> bytes:
    return encode(scene(240, 160), "JPEG", quality=92)


@pytest.fixture(scope="session")
def big_jpeg() -> bytes:
    """12 megapixels, about the size of a phone photo."""
    return encode(scene(4000, 3000), "JPEG", quality=90)


@pytest.fixture(scope="session")
def photo_png() -> bytes:
    return encode(scene(200, 150, seed=1), "PNG")
