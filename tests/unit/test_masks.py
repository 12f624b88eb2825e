"""Masks from files and drawings: polarity, alpha strokes, scaling, mismatch, growth."""

import io

import numpy as np
import pytest
from PIL import Image

from eraser import MaskError, fit_mask, load_mask, mask_from_drawing
from eraser.masks import grow
from tests.support.photos import encode

SIZE = (80, 60)  # width, height


def _square(h=60, w=80):
    m = np.zeros((h, w), np.uint8)
    m[h // 4 : h // 2, w // 4 : w // 2] = 255
    return m


def test_grayscale_mask_white_is_erase():
    mask = load_mask(encode(_square()), SIZE)
    assert mask.dtype == bool and mask.shape == (60, 80)
    assert np.array_equal(mask, _square() > 0)


def test_rgb_mask_any_non_zero_channel_is_erase():
    rgb = np.zeros((60, 80, 3), np.uint8)
    rgb[5:10, 5:10, 2] = 1  # barely blue still counts
    rgb[20:30, 20:30] = 255
    mask = load_mask(encode(rgb), SIZE)
    assert mask.sum() == 25 + 100


def test_transparent_png_strokes_live_in_alpha():
    # Black strokes on a transparent background: ignoring alpha would give an empty mask.
    rgba = np.zeros((60, 80, 4), np.uint8)
    rgba[..., 3] = _square()
    mask = load_mask(encode(rgba), SIZE)
    assert np.array_equal(mask, _square() > 0)


def test_opaque_rgba_mask_uses_its_colour():
    rgba = np.dstack([np.repeat(_square()[..., None], 3, 2), np.full((60, 80), 255, np.uint8)])
    assert np.array_equal(load_mask(encode(rgba), SIZE), _square() > 0)


def test_same_aspect_ratio_is_scaled_with_nearest():
    small = np.zeros((15, 20), np.uint8)
    small[3:6, 4:8] = 255
    mask = load_mask(encode(small), SIZE)
    assert mask.shape == (60, 80) and mask.sum() == 3 * 4 * 16
    assert mask[12:24, 16:32].all() and not mask[:12].any()


def test_drawing_at_display_size_maps_to_full_size():
    # The canvas rounds 4000x3000 to 333x250 here: a pixel of rounding must be allowed.
    drawing = np.zeros((250, 333, 4), np.uint8)
    drawing[100:150, 100:200] = (255, 0, 0, 120)
    mask = mask_from_drawing(drawing, (4000, 3000))
    assert mask.shape == (3000, 4000)
    ys, xs = np.nonzero(mask)
    assert abs(ys.min() - 1200) <= 12 and abs(xs.max() - 2402) <= 12


def test_other_shapes_are_refused_with_both_sizes():
    with pytest.raises(MaskError, match="The mask is 80x80 pixels but the photo is 80x60"):
        fit_mask(np.ones((80, 80), bool), SIZE)
    with pytest.raises(MaskError, match="could not be read"):
        mask_from_drawing(np.zeros((60, 80, 3), np.uint8), SIZE)


def test_grow_widens_by_the_given_pixels_only_near_the_mask():
    mask = np.zeros((60, 80), bool)
    mask[30, 40] = True
    grown = grow(mask, 5)
    ys, xs = np.nonzero(grown)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (25, 35, 35, 45)
    assert grown[30, 45] and not grown[25, 45]  # a disc, not a square
    assert grow(mask, 0) is mask


def test_mask_from_a_jpeg_file_still_loads():
    data = encode(_square(), "JPEG", quality=90)
    mask = load_mask(data, SIZE)
    assert mask[20, 30] and not mask[55, 75]


def test_exif_rotated_mask_is_oriented_like_the_photo():
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.fromarray(_square(80, 60)).save(out, "PNG", exif=exif.tobytes())
    mask = load_mask(out.getvalue(), SIZE)
    assert mask.shape == (60, 80)
