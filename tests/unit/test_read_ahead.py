"""Reading a JPEG's coefficients beside the fill (read_ahead) or only when the result is saved
(the app, which shows the result first): the same file either way."""

import numpy as np
import pytest

from eraser import Local, Photo, erase
from tests.support.photos import blob, encode, scene

PHOTO = encode(scene(640, 480, seed=3), "JPEG", quality=90)
MASK = blob(640, 480, (300, 220), 90)


def test_the_read_starts_with_the_fill_only_when_asked_for():
    photo = Photo.open(PHOTO)
    assert erase(photo, MASK, engine="telea").jpeg_source.original is not None
    assert erase(photo, MASK, engine="telea", read_ahead=False).jpeg_source.original is None
    assert Local("telea", read_ahead=False).erase(photo, MASK).photo.jpeg_source.original is None


@pytest.mark.parametrize("engine", ["telea", "patchmatch"])
def test_a_result_read_later_saves_to_the_same_bytes(engine):
    photo = Photo.open(PHOTO)
    ahead = erase(photo, MASK, engine=engine).encode()
    later = erase(photo, MASK, engine=engine, read_ahead=False).encode()
    assert ahead == later
    assert not np.array_equal(Photo.open(later).pixels, photo.pixels)  # erased, blocks kept or not
