"""A photo's first look (eraser.images.glance): a JPEG decoded near the size it is shown at, with
the photo's own size, refused exactly as Photo.open refuses it; anything else decoded whole."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from eraser import ImageError, Photo
from eraser.images import Glance, glance
from tests.support.hostile import cjpeg
from tests.support.photos import encode, scene

BIG = scene(1600, 1200)
CANVAS = (704, 360)


def jpeg(pixels, **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def test_a_large_jpeg_is_seen_at_a_smaller_scale_that_still_covers_the_canvas():
    seen = glance(jpeg(BIG), CANVAS)
    assert isinstance(seen, Glance) and seen.size == (1600, 1200)
    height, width = seen.pixels.shape[:2]
    # The canvas shows it at 480 x 360: libjpeg's 1/2, since 1/4 (400 x 300) would be smaller.
    assert (width, height) == (800, 600)
    whole = cv2.resize(Photo.open(jpeg(BIG)).pixels, (width, height), interpolation=cv2.INTER_AREA)
    assert np.abs(whole.astype(int) - seen.pixels).mean() < 2  # the same picture


def test_a_jpeg_stored_sideways_is_seen_upright_with_its_upright_size():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    data = jpeg(BIG, exif=exif.tobytes())
    seen, whole = glance(data, CANVAS), Photo.open(data)
    assert seen.size == whole.size == (1200, 1600)
    height, width = seen.pixels.shape[:2]
    assert (width, height) == (600, 800)  # the canvas shows it at 270 x 360
    small = cv2.resize(whole.pixels, (width, height), interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - seen.pixels).mean() < 2


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_grey_and_cmyk_jpegs_are_seen_in_colour_like_the_photo(mode):
    data = encode(np.asarray(Image.fromarray(BIG).convert(mode)), "JPEG") if mode == "L" else _cmyk()
    seen = glance(data, CANVAS)
    assert isinstance(seen, Glance) and seen.pixels.shape[2] == 3


def _cmyk() -> bytes:
    out = io.BytesIO()
    Image.fromarray(BIG).convert("CMYK").save(out, "JPEG", quality=90)
    return out.getvalue()


def _mpo() -> bytes:
    out = io.BytesIO()
    Image.fromarray(BIG).save(out, "MPO", save_all=True, append_images=[Image.new("RGB", (1600, 1200))])
    return out.getvalue()


@pytest.mark.parametrize("make", [
    _mpo,  # a camera's JPEG with a second picture appended: the first one is the photo
    lambda: cjpeg(BIG, "-arithmetic", "-quality", "90"),  # handed to libjpeg a scan at a time
    lambda: cjpeg(BIG, "-progressive", "-quality", "90"),
], ids=["mpo", "arithmetic", "progressive"])
def test_camera_and_unusual_jpegs_are_seen_like_the_photo(make):
    data = make()
    seen = glance(data, CANVAS)
    assert isinstance(seen, Glance) and seen.size == (1600, 1200) and seen.format == "JPEG"
    whole = cv2.resize(Photo.open(data).pixels, (800, 600), interpolation=cv2.INTER_AREA)
    assert np.abs(whole.astype(int) - seen.pixels).mean() < 2


def _sideways() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    return exif.tobytes()


@pytest.mark.parametrize("data", [
    encode(BIG, "PNG"), jpeg(scene(300, 200)), jpeg(scene(300, 200), exif=_sideways()),
], ids=["png", "small jpeg", "small jpeg stored sideways"])
def test_anything_a_first_look_would_not_spare_comes_whole(data):
    seen = glance(data, CANVAS, name="street.jpg")
    assert isinstance(seen, Photo) and seen.name == "street.jpg"
    assert np.array_equal(seen.pixels, Photo.open(data).pixels)


@pytest.mark.parametrize("data", [
    jpeg(BIG)[: len(jpeg(BIG)) // 2],  # truncated halfway through the picture
    jpeg(BIG)[:300],
    b"",
    jpeg(scene(600, 10)),  # too thin to paint on
], ids=["truncated", "header only", "empty", "too thin"])
def test_a_first_look_refuses_what_photo_open_refuses_with_the_same_words(data):
    with pytest.raises(ImageError) as seen:
        glance(data, CANVAS)
    with pytest.raises(ImageError) as opened:
        Photo.open(data)
    assert str(seen.value) == str(opened.value)
