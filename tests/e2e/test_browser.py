"""The app in a real browser: upload, paint with the mouse, Erase, Download, and a bad upload."""


import cv2
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from eraser import Photo
from eraser.errors import EraserError
from tests.photos import encode, scene

BALL = (700, 520, 60)  # centre x, centre y, radius in photo pixels: the object to erase


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A 1200x800 JPEG: sky over a brick wall, with a yellow ball on the wall."""
    pixels = scene(1200, 800, seed=3)
    cv2.circle(pixels, BALL[:2], BALL[2], (235, 200, 40), -1, lineType=cv2.LINE_AA)
    path = tmp_path_factory.mktemp("photos") / "street.jpg"
    path.write_bytes(encode(pixels, "JPEG", quality=92))
    return path


def upload(page, path):
    page.locator("input[type=file]").first.set_input_files(path)


def paint_over_ball(page, canvas):
    """Zigzag brush strokes over the ball, mapped from photo to canvas pixels."""
    box = canvas.bounding_box()
    scale = box["width"] / 1200
    x, y, r = (v * scale for v in BALL)
    page.mouse.move(box["x"] + x - r, box["y"] + y - r)
    page.mouse.down()
    for i, dy in enumerate(np.linspace(-r, r, 6)):
        side = r if i % 2 == 0 else -r
        page.mouse.move(box["x"] + x + side, box["y"] + y + dy, steps=8)
    page.mouse.up()


def yellowness(pixels):
    """How much yellower than blue a region is on average (the ball is about 190, bricks 20)."""
    return float((pixels[..., :2].mean(axis=-1) - pixels[..., 2]).mean())


def test_paint_erase_and_download(page, photo, tmp_path, screenshot_path):
    upload(page, photo)
    canvas = page.locator("canvas.upper-canvas")
    erase = page.get_by_role("button", name="Erase", exact=True)
    expect(erase).to_be_disabled()
    paint_over_ball(page, canvas)
    expect(erase).to_be_enabled()
    erase.click()
    download = page.get_by_role("button", name="Download", exact=True)
    expect(download).to_be_visible(timeout=60_000)
    expect(page.get_by_text("After", exact=True)).to_be_visible()
    page.screenshot(path=screenshot_path)

    with page.expect_download() as event:
        download.click()
    assert event.value.suggested_filename == "street_erased.jpg"
    saved = tmp_path / "out.jpg"
    event.value.save_as(saved)

    before = np.asarray(Image.open(photo)).astype(int)
    after_image = Image.open(saved)
    after = np.asarray(after_image).astype(int)
    assert (after_image.format, after_image.size) == ("JPEG", (1200, 800))
    x, y, r = BALL
    inner = r // 2
    assert yellowness(before[y - inner : y + inner, x - inner : x + inner]) > 120
    assert yellowness(after[y - inner : y + inner, x - inner : x + inner]) < 60  # the ball is gone
    for far in (before[:200, :300] - after[:200, :300], before[600:, :300] - after[600:, :300]):
        assert np.abs(far).mean() < 2  # only JPEG re-encoding away from the stroke


def test_a_corrupt_upload_shows_the_message_and_the_page_still_works(page, photo, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is a text file, not a photo")
    with pytest.raises(EraserError) as caught:
        Photo.open(broken.read_bytes(), broken.name)

    upload(page, broken)
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_have_text(str(caught.value))
    expect(page.get_by_test_id("stException")).to_have_count(0)

    upload(page, photo)
    expect(page.locator("canvas.upper-canvas")).to_be_visible()
    expect(alert).to_have_count(0)


def test_rectangle_keep_erasing_and_undo(page, photo):
    upload(page, photo)
    canvas = page.locator("canvas.upper-canvas")
    erase = page.get_by_role("button", name="Erase", exact=True)
    undo = page.get_by_test_id("stButton").get_by_role("button", name="Undo", exact=True)
    page.get_by_text("Rectangle", exact=True).click()
    expect(page.get_by_role("slider")).to_be_disabled()  # the rerun has given the canvas the new tool
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 50, box["y"] + 50)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 100, steps=8)
    page.mouse.up()
    expect(erase).to_be_enabled()
    erase.click()
    keep = page.get_by_role("button", name="Keep erasing", exact=True)
    keep.click()

    expect(page.get_by_role("button", name="Download", exact=True)).to_have_count(0)
    expect(erase).to_be_disabled()  # the canvas really is empty again
    expect(undo).to_be_enabled()
    undo.click()
    expect(undo).to_be_disabled()
    expect(erase).to_be_disabled()


def test_a_failed_erase_shows_its_message_without_a_click(page, photo):
    # Remote with no key anywhere: the erase fails, and the page must say why, visibly.
    page.get_by_text("Remote", exact=True).click()
    page.get_by_label("Service URL").fill("http://127.0.0.1:9")
    page.get_by_label("Service URL").press("Enter")
    upload(page, photo)
    canvas = page.locator("canvas.upper-canvas")
    paint_over_ball(page, canvas)
    page.get_by_role("button", name="Erase", exact=True).click()
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_be_visible()
    expect(alert).to_have_text("No API key is set: set AILAB_API_KEY or enter a key.")
    expect(page.locator("canvas.upper-canvas")).to_be_visible()  # the photo and mask stay
