"""Keep out ("don't copy from here"): the fill takes nothing from the marked regions, whatever
the engine, and the photo outside the erase mask stays bit-identical."""

import numpy as np
import pytest

from eraser import MaskError, Photo, erase
from eraser.engines import Engine
from eraser.masks import grow
from tests.support.photos import blob, encode, scene

YELLOW = (230, 210, 40)


def yellow_scene(scale: int = 1):
    """Bricks with one yellow block, the only yellow in the photo, touching a dark object."""
    width, height = 480 * scale, 360 * scale
    pixels = scene(width, height)
    yellow = np.zeros((height, width), bool)
    yellow[150 * scale : 300 * scale, 100 * scale : 190 * scale] = True
    grain = np.random.default_rng(3).normal(0, 8, (yellow.sum(), 1))
    pixels[yellow] = np.clip(np.array(YELLOW) + grain, 0, 255).astype(np.uint8)
    hole = blob(width, height, (240 * scale, 225 * scale), 110 * scale)
    pixels[hole] = (20, 20, 20)
    return Photo.open(encode(pixels)), hole, yellow


def yellowness(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., 1].astype(int) - pixels[..., 2]


def yellowish(pixels: np.ndarray) -> np.ndarray:
    p = pixels.astype(int)
    return (p[..., 0] > 170) & (p[..., 1] > 150) & (p[..., 2] < 120)


@pytest.mark.parametrize(
    "engine, scale",
    [("patchmatch", 1), ("patchmatch", 2), ("telea", 1), ("auto", 1)],
    ids=["patchmatch", "patchmatch-scaled-window", "telea", "auto"],
)
def test_the_only_source_of_a_colour_kept_out_leaves_none_of_it_in_the_fill(engine, scale):
    photo, hole, yellow = yellow_scene(scale)
    free = erase(photo, hole, engine=engine, grow=0).pixels
    kept = erase(photo, hole, engine=engine, grow=0, keep_out=yellow).pixels
    assert yellowish(free)[hole].sum() > 0.02 * hole.sum()  # without keep-out it does copy it
    assert yellowish(kept)[hole].sum() == 0
    # Not even a tint: no pixel of the fill is yellower (green over blue) than the pixels it may
    # copy from, give or take a few levels of interpolation. A scaled window's upscale would
    # bleed the yellow a few pixels into the fill's edge if the kept-out pixels were not smoothed
    # over first.
    sources = ~yellow & ~hole
    assert yellowness(kept)[hole].max() <= yellowness(photo.pixels)[sources].max() + 5
    # The hole is filled (no dark object left) and nothing outside it changed, the yellow included.
    assert kept[hole].astype(int).sum(axis=1).min() > 150
    assert np.array_equal(kept[~hole], photo.pixels[~hole])


def test_where_keep_out_overlaps_the_mask_the_mask_wins():
    photo, hole, yellow = yellow_scene()
    keep = yellow | grow(hole, 10)  # the person marked over the object and around it too
    result = erase(photo, hole, engine="patchmatch", grow=3, keep_out=keep).pixels
    assert (result[hole].astype(int).sum(axis=1) > 150).all()  # erased all the same
    changed = (result != photo.pixels).any(axis=2)
    assert not (changed & ~grow(hole, 3)).any()  # and only the grown mask changed


def test_a_keep_out_mask_of_another_size_is_refused_like_a_mask():
    photo, hole, _ = yellow_scene()
    with pytest.raises(MaskError, match="The keep-out mask is 100x100 pixels but the photo is 480x360"):
        erase(photo, hole, keep_out=np.ones((100, 100), bool))
    # The same shape at another scale is fitted, as masks are.
    half = np.zeros((180, 240), bool)
    half[75:150, 50:95] = True
    assert not yellowish(erase(photo, hole, engine="telea", grow=0, keep_out=half).pixels)[hole].any()


def test_keeping_out_all_that_is_left_is_refused():
    photo, hole, _ = yellow_scene()
    with pytest.raises(MaskError, match="together leave too little to fill from.*Mark less as keep-out"):
        erase(photo, hole, keep_out=~hole)


def test_an_empty_keep_out_changes_nothing():
    photo, hole, _ = yellow_scene()
    plain = erase(photo, hole, engine="patchmatch").pixels
    assert np.array_equal(erase(photo, hole, engine="patchmatch", keep_out=np.zeros(hole.shape, bool)).pixels, plain)


class Spy(Engine):
    """An engine with no keep-out of its own (like the learned ones): records what it is shown."""

    name = title = label = summary = "spy"

    def __init__(self, max_side=None):
        self.max_side = max_side
        self.seen = []

    def inpaint(self, rgb, mask):
        self.seen.append((rgb.copy(), mask.copy()))
        return np.where(mask[..., None], np.uint8(99), rgb)


@pytest.mark.parametrize("max_side", [None, 64], ids=["full-size", "scaled-window"])
def test_engines_without_keep_out_see_it_hidden_and_give_back_only_the_hole(max_side):
    photo, hole, yellow = yellow_scene()
    spy = Spy(max_side)
    result = erase(photo, hole, engine=spy, grow=0, keep_out=yellow).pixels
    (rgb, mask), = spy.seen
    assert max_side is None or max(mask.shape) == max_side
    # Every yellow pixel the engine was shown is under the hole it was asked to fill.
    assert not (yellowish(rgb) & ~mask).any() and mask.sum() > hole.sum() * (64 / 480) ** 2 * 1.5
    assert np.array_equal(result[~hole], photo.pixels[~hole])
    assert not yellowish(result)[hole].any()
