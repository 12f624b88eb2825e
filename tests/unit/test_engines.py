"""Engines fill the hole with plausible texture, leave the rest bit-identical, follow the mask."""

import cv2
import numpy as np
import pytest

from eraser import Photo, engines, erase
from eraser.engines.base import _median, windows
from eraser.masks import grow
from tests.support.photos import blob, encode, scene

W, H = 480, 360


@pytest.fixture(scope="module")
def photo_with_object():
    """A brick scene with a flat green disc pasted on it: the object to erase."""
    pixels = scene(W, H)
    mask = blob(W, H, (240, 240), 60)
    pixels[mask] = (20, 200, 20)
    return Photo.open(encode(pixels)), mask


@pytest.mark.parametrize("name", [n for n in engines.names() if n not in engines.LEARNED])
@pytest.mark.slow
def test_engine_fills_the_hole_and_leaves_the_rest(photo_with_object, name):
    photo, mask = photo_with_object
    result = erase(photo, mask, engine=name, grow=2)
    before, after = photo.pixels.astype(int), result.pixels.astype(int)
    assert result.size == photo.size
    changed = (before != after).any(axis=2)
    # Only the mask and its 2 px growth may change; the rest is bit-identical.
    assert not (changed & ~grow(mask, 2)).any()
    hole = after[mask]
    assert np.abs(hole - (20, 200, 20)).sum(axis=1).min() > 100  # no green left
    # Plausible: the fill looks like the brick ground around it, not a flat patch.
    ground = before[200:280, 140:200].reshape(-1, 3)
    assert np.abs(hole.mean(axis=0) - ground.mean(axis=0)).max() < 25
    assert hole.std(axis=0).mean() > 2


@pytest.mark.slow
def test_patchmatch_copies_texture_telea_smooths(photo_with_object):
    photo, mask = photo_with_object
    pm = erase(photo, mask, engine="patchmatch").pixels[mask].astype(float)
    telea = erase(photo, mask, engine="telea").pixels[mask].astype(float)
    assert pm.std(axis=0).mean() > telea.std(axis=0).mean()


@pytest.mark.slow
def test_same_input_same_result(photo_with_object):
    photo, mask = photo_with_object
    assert np.array_equal(erase(photo, mask).pixels, erase(photo, mask).pixels)


def test_auto_sends_thin_strokes_to_telea_and_objects_to_patchmatch_without_a_model():
    auto = engines.get("auto")
    line = np.zeros((100, 300), bool)
    line[50:54, 10:290] = True
    assert auto.engine_for(line).name == "telea"
    assert auto.engine_for(blob(300, 300, (150, 150), 80)).name == "patchmatch"


def test_windows_follow_each_region_and_never_overlap():
    mask = np.zeros((1000, 2000), bool)
    mask[100:120, 100:120] = True  # far apart: two windows
    mask[800:900, 1700:1800] = True
    boxes = windows(mask, 0.5, 24)
    assert sorted(boxes) == [(76, 76, 144, 144), (1650, 750, 1850, 950)]
    mask[130:140, 130:140] = True  # close to the first: merged into it
    boxes = windows(mask, 0.5, 24)
    assert len(boxes) == 2
    cover = np.zeros(mask.shape, int)
    for x0, y0, x1, y1 in boxes:
        cover[y0:y1, x0:x1] += 1
    assert cover.max() == 1 and (cover[mask] == 1).all()


def test_crop_is_much_cheaper_than_full_frame_and_both_stay_outside_the_mask():
    pixels = scene(640, 480)
    mask = blob(640, 480, (100, 380), 30)
    photo = Photo.open(encode(pixels))
    cropped = erase(photo, mask, engine="telea", grow=0)
    full = erase(photo, mask, engine="telea", grow=0, crop=False)
    for result in (cropped, full):
        assert np.array_equal(result.pixels[~mask], pixels[~mask])
    # Telea only reads pixels near the hole, so the window loses nothing.
    assert np.abs(cropped.pixels[mask].astype(int) - full.pixels[mask].astype(int)).max() <= 8


def test_alpha_and_size_survive_erasing():
    pixels = scene(200, 120)
    alpha = np.full((120, 200), 200, np.uint8)
    rgba = np.dstack([pixels, alpha])
    photo = Photo.open(encode(rgba))
    mask = blob(200, 120, (100, 60), 30)
    result = erase(photo, mask)
    assert np.array_equal(result.alpha, alpha) and result.size == (200, 120)
    assert photo.pixels is not result.pixels and np.array_equal(photo.pixels, pixels)  # input untouched


def test_hole_at_the_border_is_filled():
    pixels = scene(300, 200)
    mask = np.zeros((200, 300), bool)
    mask[:40, 260:] = True
    result = erase(Photo.open(encode(pixels)), mask, engine="patchmatch", grow=0)
    assert np.array_equal(result.pixels[~mask], pixels[~mask])
    assert not np.array_equal(result.pixels[mask], pixels[mask])


@pytest.mark.slow
def test_scaled_down_fill_gets_the_photo_grain_back():
    # A 400 px object makes a window larger than PatchMatch's working size: the fill is upscaled.
    pixels = scene(900, 700, seed=3)
    mask = blob(900, 700, (450, 450), 400)
    result = erase(Photo.open(encode(pixels)), mask, engine="patchmatch", grow=0)

    def grain(rgb):
        fine = rgb.astype(float) - cv2.GaussianBlur(rgb, (0, 0), 1.0).astype(float)
        return np.median(np.abs(fine[mask]))

    assert grain(result.pixels) > 0.7 * grain(pixels)


@pytest.mark.parametrize("count", [1, 2, 7, 10, 4097])
def test_the_grain_median_is_numpy_s(count):
    values = np.random.default_rng(count).normal(0, 9, (count, 3)).astype(np.float32)
    ours = _median(values)
    assert ours.dtype == np.float32 and np.array_equal(ours, np.median(values, axis=0))


def test_hundreds_of_specks_are_grouped_into_a_few_windows():
    mask = np.zeros((1500, 2000), bool)
    mask[50::100, 50::100] = True  # 300 separate specks, each far from the next
    boxes = windows(mask, 0.5, 24)
    assert 1 < len(boxes) <= 9
    cover = np.zeros(mask.shape, int)
    for x0, y0, x1, y1 in boxes:
        cover[y0:y1, x0:x1] += 1
    assert cover.max() == 1 and (cover[mask] == 1).all()


def test_thin_tells_strokes_from_objects_in_photo_pixels():
    from eraser.engines.auto import AutoEngine, thin

    mask = np.zeros((200, 300), bool)
    mask[100:110, 20:280] = True  # a 10 px line: half-width 5
    assert thin(mask)
    mask[40:90, 40:90] = True  # a 50 px object
    assert not thin(mask)
    assert thin(mask, scale=25 / AutoEngine.thin_radius)  # a drawing 25/8 times the photo's size
