"""Memory follows the mask's windows in bands, not whole frames: the grain step of an upscaled
fill makes no whole-window float copy, nor does the JPEG save."""

import tracemalloc

import numpy as np
import pytest

from eraser import Photo, erase
from eraser.engines.base import _add_grain
from tests.support.photos import encode, scene

# 3 MP frames erased and saved with their peak memory traced: the slow tier.
pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 2000, 1500
FLOAT_FRAME = WIDTH * HEIGHT * 3 * 4  # one float32 copy of the frame: 36 MB


def _peak(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_grain_for_a_near_full_window_stays_in_bands():
    # Bands cost in proportion to the width, a whole-frame copy to the area: a tall frame.
    width, height = 1600, 4000
    rgb = scene(width, height)
    fill = np.full_like(rgb, 128)  # a flat fill: all of the grain is missing
    mask = np.ones((height, width), bool)
    mask[-400:] = False
    peak = _peak(lambda: _add_grain(fill, rgb, mask, scale=320 / height))
    assert peak < width * height * 3 * 4 / 4  # a quarter of one float copy; it used to take five
    assert fill[mask].std() > 2  # the grain was added


def test_saving_a_near_full_erase_as_jpeg_stays_in_bands():
    photo = Photo.open(encode(scene(WIDTH, HEIGHT), "JPEG", quality=90))
    mask = np.ones((HEIGHT, WIDTH), bool)
    mask[-300:] = False
    result = erase(photo, mask, engine="telea")
    # One set of coefficients (2 bytes each, 4:2:0), read while the engine ran, is changed in
    # place and written as it is: no copy of it for the writer, no whole-photo pixel copy.
    coefficients = WIDTH * HEIGHT * 3 // 2 * 2
    assert _peak(result.encode) < 1.25 * coefficients  # 9.2 MB here; with a copy for the writer, 13.2
