"""Photos too small to paint on are refused with a sentence that says so; masks are not affected."""

import numpy as np
import pytest

from eraser import ImageError, Photo, load_mask
from eraser.images import MIN_SIDE
from tests.support.photos import encode, scene


@pytest.mark.parametrize("size", [(1, 1), (MIN_SIDE - 1, 200), (300, MIN_SIDE - 1)])
def test_a_photo_under_the_minimum_side_is_refused(size):
    width, height = size
    with pytest.raises(ImageError) as caught:
        Photo.open(encode(scene(width, height)), "dot.png")
    assert str(caught.value) == (
        f"The photo is {width}x{height} pixels, too small to edit: "
        f"choose one at least {MIN_SIDE} pixels on each side."
    )


def test_a_photo_at_the_minimum_side_opens():
    assert Photo.open(encode(scene(MIN_SIDE, MIN_SIDE))).size == (MIN_SIDE, MIN_SIDE)


def test_a_small_mask_of_the_same_shape_still_scales_to_the_photo():
    mask = np.zeros((3, 4), np.uint8)
    mask[1, 1] = 255
    assert load_mask(encode(mask), (400, 300)).sum() == 100 * 100
