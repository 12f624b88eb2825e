"""AppTest fixtures: the app with a stand-in canvas, and photos to upload."""

import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.fake_canvas import FakeCanvas
from tests.support.photos import encode, scene

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture
def canvas(monkeypatch):
    fake = FakeCanvas()
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", fake.module())
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
    """12 megapixels and about 3 MB, like a phone photo."""
    return encode(scene(4000, 3000), "JPEG", quality=86)


@pytest.fixture(scope="session")
def photo_png() -> bytes:
    return encode(scene(200, 150, seed=1), "PNG")
