"""Zoom and pan in a real browser: a precise stroke on a 12 MP photo, and a box selection."""

import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.test_browser import LIVE_CANVAS, canvas_of, erase, upload
from tests.support.photos import encode, object_scene, scene

BIG = (4000, 3000)
MARGIN = 40  # half the 35 px brush, the mask's growth, and the JPEG blocks the stroke touches


@pytest.fixture(scope="module")
def big_photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("photos") / "street.jpg"
    path.write_bytes(encode(scene(*BIG, seed=5), "JPEG", quality=88))
    return path


def zoom(page, level):
    choice = page.get_by_role("combobox", name="Zoom")
    choice.click()
    page.keyboard.type(level)
    page.keyboard.press("Enter")
    expect(choice).to_have_value(level)
    if level != "Whole photo":  # the view's buttons come alive once the page has zoomed
        expect(page.get_by_role("button", name="Down", exact=True)).to_be_enabled()


def pan_to_the_end(page, direction):
    """Press a pan button until the view reaches the photo's edge."""
    button = page.get_by_role("button", name=direction, exact=True)
    for _ in range(20):
        canvas_of(page)  # the last move's canvas alone: a rerun's old one can linger beside it
        if button.is_disabled():
            return
        canvas = page.locator(LIVE_CANVAS).get_attribute("class")
        number = int(re.search(r"st-key-eraser_canvas_(\d+)_", canvas).group(1))
        button.click()
        # Each move starts a new canvas; once it is there, the buttons say where the view is.
        expect(page.locator(f"[class*='st-key-eraser_canvas_{number + 1}_']")).to_have_count(1)
        canvas_of(page)
    raise AssertionError(f"{direction} never reached the edge")


def stroke(page, points):
    """Mouse strokes through canvas points, with the canvas scrolled into the window first (the
    view's buttons are below it, and a 768-pixel-high window cannot show both)."""
    canvas = canvas_of(page)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=10)
    page.mouse.up()


def saved(page, tmp_path, name):
    with page.expect_download() as event:
        page.get_by_role("button", name="Download").click()
    path = tmp_path / name
    event.value.save_as(path)
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def test_zoomed_in_a_small_stroke_near_a_corner_changes_only_the_pixels_around_it(page, big_photo, tmp_path):
    upload(page, big_photo)
    canvas_of(page)
    zoom(page, "1:1")
    pan_to_the_end(page, "Left")
    pan_to_the_end(page, "Up")
    # At 1:1 the top-left view shows photo pixels (0, 0) onwards, one per screen pixel.
    points = [(60, 50), (110, 60), (130, 90)]
    stroke(page, points)
    erase(page, 1)

    before = np.asarray(Image.open(big_photo).convert("RGB")).astype(int)
    after = saved(page, tmp_path, "erased.jpg")
    assert after.shape == before.shape
    changed = np.abs(after - before).max(axis=2) > 0
    rows, cols = np.nonzero(changed)
    xs, ys = [x for x, _ in points], [y for _, y in points]
    assert rows.size > 0.5 * 70 * 35  # the stroke's pixels were erased
    assert cols.min() >= min(xs) - MARGIN and cols.max() <= max(xs) + MARGIN
    assert rows.min() >= min(ys) - MARGIN and rows.max() <= max(ys) + MARGIN


def settled_box(page):
    """The canvas's box once the rerun a tool change makes has replaced it (the old one can be
    found and then detached, which gives no box)."""
    for _ in range(75):
        page.wait_for_timeout(200)
        box = canvas_of(page).bounding_box()
        if box is not None:
            return box
    raise AssertionError("the canvas was not drawn again after the tool changed")


def test_a_box_around_an_object_is_shown_selected_and_erased(page, tmp_path):
    pixels, outline = object_scene(1200, 800)
    path = tmp_path / "street.jpg"
    path.write_bytes(encode(pixels, "JPEG", quality=92))
    upload(page, path)
    canvas_of(page)
    page.get_by_text("Select object", exact=True).click()
    box = settled_box(page)
    scale = box["width"] / 1200
    ys, xs = np.nonzero(outline)
    corners = [((xs.min() - 30) * scale, (ys.min() - 30) * scale), ((xs.max() + 30) * scale, (ys.max() + 30) * scale)]
    stroke(page, corners)
    erase_button = page.get_by_role("button", name="Erase", exact=True)
    expect(erase_button).to_be_enabled(timeout=30_000)  # the object's outline is marked
    shot = tmp_path / "selected.png"
    canvas_of(page).screenshot(path=shot)
    shown = np.asarray(Image.open(shot).convert("RGB").resize((1200, 800))).astype(int)
    # The object shows the erase tint (redder than the photo), the bricks around it do not.
    assert shown[outline, 0].mean() > pixels[outline, 0].mean() + 5
    far = np.zeros_like(outline)
    far[:150, :300] = True
    assert abs(shown[far, 0].mean() - pixels[far, 0].mean()) < 8

    erase(page, 1)
    after = saved(page, tmp_path, "erased.jpg")
    magenta = (after[..., 0] > 150) & (after[..., 1] < 90) & (after[..., 2] > 120)
    assert magenta[outline].mean() < 0.05
