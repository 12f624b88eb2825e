"""Snap to object: a box or a rough stroke becomes the object's outline, or a sentence saying
why not. Scenes are generated, so the true outline is known."""

import cv2
import numpy as np
import pytest

from bench.inputs import box_around, iou, sloppy_stroke
from eraser import MaskError, Photo, select_object
from eraser.select import DEFAULT_GROW, WORK_PIXELS
from tests.support.photos import encode, object_scene, scene


@pytest.fixture(scope="module")
def small_scene():
    return object_scene(640, 480)


@pytest.fixture(scope="module")
def large_scene():
    """Large enough that GrabCut works on a scaled-down copy and the edge is decided again."""
    pixels, outline = object_scene(1600, 1200, seed=2)
    assert outline.sum() * 1.3 > WORK_PIXELS
    return pixels, outline


@pytest.mark.parametrize("which", ["small_scene", "large_scene"])
def test_a_box_around_the_object_finds_its_outline(request, which):
    pixels, outline = request.getfixturevalue(which)
    mask = select_object(pixels, box=box_around(outline, outline.shape[1] // 30))
    assert mask.shape == outline.shape and mask.dtype == bool
    assert iou(mask, outline) >= 0.9
    # Grown against halos: the whole object is inside, and little else.
    assert not (outline & ~mask).any()
    assert iou(select_object(pixels, box=box_around(outline, 20), grow=0), outline) >= 0.97


@pytest.mark.parametrize("which", ["small_scene", "large_scene"])
def test_a_rough_stroke_over_the_object_finds_its_outline(request, which):
    pixels, outline = request.getfixturevalue(which)
    stroke = sloppy_stroke(outline, outline.shape[1] // 50)
    assert (outline & ~stroke).any() and (stroke & ~outline).sum() > 0.2 * outline.sum()  # really sloppy
    assert iou(select_object(pixels, rough=stroke), outline) >= 0.9
    assert iou(select_object(pixels, box=box_around(outline, 20), rough=stroke), outline) >= 0.9


def test_a_short_stroke_inside_a_box_grows_to_the_whole_object(small_scene):
    pixels, outline = small_scene
    x0, y0, x1, y1 = box_around(outline, 0)
    stroke = np.zeros(outline.shape, np.uint8)
    cv2.line(stroke, (x0 + (x1 - x0) // 4, (y0 + y1) // 2), (x1 - (x1 - x0) // 4, (y0 + y1) // 2), 1, 20)
    assert stroke.sum() < outline.sum() / 4
    assert iou(select_object(pixels, box=box_around(outline, 10), rough=stroke > 0), outline) >= 0.9


@pytest.mark.parametrize("inset", [3, 10, 16])  # up to 5% of its size each side
def test_a_box_drawn_too_tight_finds_the_object_inside_it_and_nothing_outside(small_scene, inset):
    pixels, outline = small_scene
    x0, y0, x1, y1 = box_around(outline, -inset)  # the object sticks out of it
    inside = np.zeros(outline.shape, bool)
    inside[y0:y1, x0:x1] = True
    assert iou(select_object(pixels, box=(x0, y0, x1, y1), grow=0), outline & inside) >= 0.9
    mask = select_object(pixels, box=(x0, y0, x1, y1))
    grown = np.zeros(outline.shape, bool)
    grown[y0 - DEFAULT_GROW : y1 + DEFAULT_GROW, x0 - DEFAULT_GROW : x1 + DEFAULT_GROW] = True
    assert not (mask & ~grown).any()


def test_a_box_in_a_jpeg_finds_the_object_despite_its_blocks_and_halos():
    pixels, outline = object_scene(800, 600)
    pixels = Photo.open(encode(pixels, "JPEG", quality=75)).pixels
    box = box_around(outline, 30)
    assert iou(select_object(pixels, box=box, grow=0), outline) >= 0.9
    assert not (outline & ~select_object(pixels, box=box)).any()


def test_same_input_same_outline(large_scene):
    pixels, outline = large_scene
    box = box_around(outline, 40)
    assert np.array_equal(select_object(pixels, box=box), select_object(pixels, box=box))


NOTHING = "No object stands out"


def flat(width=640, height=480) -> np.ndarray:
    rng = np.random.default_rng(1)
    grain = rng.normal(0, 8, (height, width, 1))
    return np.clip(np.array([120, 140, 90]) + grain, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "pixels, box",
    [
        (flat(), (200, 150, 440, 330)),  # grain on one colour
        (flat(), (0, 0, 640, 400)),  # and touching three sides
        (scene(640, 480), (40, 20, 600, 140)),  # a sky gradient
        (object_scene(640, 480)[0], (280, 250, 360, 330)),  # inside the object: all one colour
    ],
    ids=["grain", "grain-to-the-edges", "sky", "inside-the-object"],
)
def test_a_box_on_flat_texture_says_it_found_nothing(pixels, box):
    with pytest.raises(MaskError, match=NOTHING):
        select_object(pixels, box=box)


def test_a_stroke_on_flat_texture_says_it_found_nothing():
    stroke = np.zeros((480, 640), bool)
    stroke[200:260, 150:450] = True
    with pytest.raises(MaskError, match="No object stands out under the rough mask"):
        select_object(flat(), rough=stroke)


W, H = 640, 480


@pytest.mark.parametrize(
    "box, words",
    [
        ((10, 10, 700, 100), "reaches outside the photo, which is 640x480"),
        ((-5, 10, 100, 100), "reaches outside the photo"),
        ((10, 10, 100, 481), "reaches outside the photo"),
        ((100, 100, 100, 200), "is empty"),
        ((100, 100, 200, 100), "is empty"),
        ((300, 100, 200, 200), "inside out"),
        ((100, 300, 200, 200), "inside out"),
        ((100, 100, 104, 200), "too small"),
        ((0, 0, 640, 480), "covers (nearly) the whole photo"),
        (("a", 1, 2, 3), "not four numbers"),
        ((float("nan"), 1, 200, 300), "not four numbers"),
        ((1, 2, 300), "not four numbers"),
        ("10,20,30,40", "not four numbers"),
        ((True, 2, 300, 300), "not four numbers"),
    ],
)
def test_bad_boxes_are_refused_in_one_sentence(small_scene, box, words):
    with pytest.raises(MaskError) as caught:
        select_object(small_scene[0], box=box)
    message = str(caught.value)
    assert words in message and "\n" not in message and message.endswith(".")


def test_float_boxes_are_rounded_to_pixels(small_scene):
    pixels, outline = small_scene
    x0, y0, x1, y1 = box_around(outline, 20)
    fractional = select_object(pixels, box=(x0 + 0.2, y0 - 0.3, x1 + 0.4, y1))
    assert np.array_equal(fractional, select_object(pixels, box=(x0, y0, x1, y1)))


@pytest.mark.parametrize(
    "rough, box, words",
    [
        (np.zeros((480, 640), bool), None, "The rough mask is empty"),
        (np.ones((100, 100), bool), None, "The rough mask is 100x100 pixels but the photo is 640x480"),
        (np.ones((480, 640), bool), None, "covers (nearly) the whole photo"),
        ("strip", (300, 200, 500, 400), "lies outside the box"),
        (None, None, "Draw a box around the object or paint roughly over it"),
    ],
)
def test_bad_rough_masks_are_refused(small_scene, rough, box, words):
    if isinstance(rough, str):
        rough = np.zeros((480, 640), bool)
        rough[10:40, 10:200] = True
    with pytest.raises(MaskError, match=words.replace("(", r"\(").replace(")", r"\)")):
        select_object(small_scene[0], box=box, rough=rough)


def test_grow_widens_the_outline_and_is_bounded(small_scene):
    pixels, outline = small_scene
    box = box_around(outline, 20)
    tight, wide = select_object(pixels, box=box, grow=0), select_object(pixels, box=box, grow=12)
    assert not (tight & ~wide).any() and wide.sum() > tight.sum()
    with pytest.raises(MaskError, match="Grow must be between 0 and 100"):
        select_object(pixels, box=box, grow=101)
