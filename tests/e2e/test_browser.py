"""The app in a real browser, measuring what a person sees: on a 1366 x 768 laptop window and on
a 390 x 844 phone with touch. Upload, paint, Erase in place, Undo erase, Redo erase, Download,
Compare, a visit to About, and refused or failed steps."""

import io
import re
from itertools import pairwise

import cv2
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from eraser import Photo
from eraser.errors import EraserError
from tests.e2e.conftest import IN_SIGHT, LAPTOP, PHONE, open_app, seen_on_top
from tests.support.photos import encode, scene

SIZE = (1200, 800)
# Centre x, centre y, radius in photo pixels: the objects to erase.
BALL = (700, 520, 60)
SECOND = (300, 560, 50)
EDGE = (1165, 420, 34)  # touching the photo's right edge


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A 1200x800 JPEG: sky over a brick wall, with yellow balls on the wall."""
    pixels = scene(*SIZE, seed=3)
    for x, y, r in (BALL, SECOND, EDGE):
        cv2.circle(pixels, (x, y), r, (235, 200, 40), -1, lineType=cv2.LINE_AA)
    path = tmp_path_factory.mktemp("photos") / "street.jpg"
    path.write_bytes(encode(pixels, "JPEG", quality=92))
    return path


# The canvas's container. Streamlit keeps the last run's elements on screen, marked stale, until
# a rerun replaces them; the live one is the one a person draws on.
LIVE_CANVAS = "[class*='st-key-eraser_canvas']:not([data-stale='true'])"


def upload(page, path):
    page.locator("input[type=file]").first.set_input_files(path)


def canvas_of(page):
    """The canvas, once it is the only one: after an erase the old one lingers for a moment."""
    expect(page.locator("[class*='st-key-eraser_canvas']")).to_have_count(1)
    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_be_visible()
    return canvas


def zigzag(box, ball):
    """Points of zigzag strokes covering a ball, mapped from photo to canvas (page) pixels."""
    scale = box["width"] / SIZE[0]
    x, y, r = (v * scale for v in ball)
    r += 4
    points = [(x - r, y - r)]
    for i, dy in enumerate(np.linspace(-r, r, 7)):
        points.append((x + (r if i % 2 == 0 else -r), y + dy))
    return [(box["x"] + px, box["y"] + py) for px, py in points]


def paint(page, ball):
    """Brush strokes over a ball with the mouse."""
    points = zigzag(canvas_of(page).bounding_box(), ball)
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=8)
    page.mouse.up()


def touch_paint(page, ball):
    """The same strokes with a finger, as a phone's touch events."""
    points = zigzag(canvas_of(page).bounding_box(), ball)
    cdp = page.context.new_cdp_session(page)
    touch = lambda kind, x, y: cdp.send(  # noqa: E731
        "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]}
    )
    touch("touchStart", *points[0])
    for (x0, y0), (x1, y1) in pairwise(points):
        for t in np.linspace(0, 1, 9)[1:]:
            touch("touchMove", x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def erase(page, step):
    """Press Erase and wait until the erased photo is the one on the canvas."""
    button = page.get_by_role("button", name="Erase", exact=True)
    expect(button).to_be_enabled()  # the strokes have reached the server
    button.click()
    expect(page.get_by_text(f"Erase {step} done")).to_be_visible(timeout=60_000)
    expect(button).to_be_disabled()  # a fresh canvas: the strokes are gone


def download(page, tmp_path):
    button = page.get_by_role("button", name="Download")
    with page.expect_download() as event:
        button.click()
    assert event.value.suggested_filename == "street_erased.jpg"
    saved = tmp_path / f"download{len(list(tmp_path.iterdir()))}.jpg"
    event.value.save_as(saved)
    image = Image.open(saved)
    assert (image.format, image.size) == ("JPEG", SIZE)
    return np.asarray(image).astype(int)


def yellowness(pixels, ball):
    """How much yellower than blue the middle of a ball is (a ball is about 190, bricks 20)."""
    x, y, r = ball
    inner = r // 2
    middle = pixels[y - inner : y + inner, x - inner : x + inner]
    return float((middle[..., :2].mean(axis=-1) - middle[..., 2]).mean())


def gone(pixels, ball):
    return yellowness(pixels, ball) < 60


def inside_window(page, locator):
    # A rerun can replace an element just as it is measured (after an erase the canvas is a new
    # one): measured once it has a box again.
    box = None
    for _ in range(50):
        expect(locator).to_be_visible()
        if (box := locator.bounding_box()) is not None:
            break
        page.wait_for_timeout(100)
    view = page.viewport_size
    return box["y"] >= 0 and box["x"] >= 0 and box["y"] + box["height"] <= view["height"] and (
        box["x"] + box["width"] <= view["width"]
    )


def test_erase_in_place_undo_redo_and_download_on_a_laptop(page, photo, tmp_path, screenshot_path):
    upload(page, photo)
    before = np.asarray(Image.open(photo)).astype(int)
    assert not gone(before, BALL) and not gone(before, SECOND)
    undo = page.get_by_role("button", name="Undo erase")
    redo = page.get_by_role("button", name="Redo erase")

    paint(page, BALL)
    erase(page, 1)
    # The whole editor in the first screen: actions, the whole canvas and the tools beside it.
    assert inside_window(page, page.get_by_role("button", name="Download"))
    assert inside_window(page, canvas_of(page))
    for tool in ("Brush size", "Rectangle", "Clear mask"):
        assert inside_window(page, page.locator(".st-key-eraser_tools").get_by_text(tool, exact=True))
    assert page.evaluate("document.querySelector('[data-testid=stMain]').scrollTop") == 0
    page.screenshot(path=screenshot_path("screenshot.png"))
    first = download(page, tmp_path)
    assert gone(first, BALL) and not gone(first, SECOND)
    for far in (before[:200, :300] - first[:200, :300], before[650:, 900:] - first[650:, 900:]):
        assert np.abs(far).mean() < 2  # only JPEG re-encoding away from the stroke

    paint(page, SECOND)
    erase(page, 2)
    both = download(page, tmp_path)
    assert gone(both, BALL) and gone(both, SECOND)
    # The server let go of the uploaded file once the photo was open; the uploader still names it.
    expect(page.get_by_test_id("stFileUploader").get_by_text("street.jpg")).to_be_visible()

    undo.click()
    # The line above the canvas is drawn last in a rerun: once it says so, Download is updated.
    expect(page.get_by_text("Erase 1 done")).to_be_visible()
    expect(redo).to_be_enabled()
    assert inside_window(page, page.get_by_role("button", name="Download"))
    undone = download(page, tmp_path)
    assert gone(undone, BALL) and not gone(undone, SECOND)

    redo.click()
    expect(page.get_by_text("Erase 2 done")).to_be_visible()
    expect(redo).to_be_disabled()
    redone = download(page, tmp_path)
    assert gone(redone, BALL) and gone(redone, SECOND)


def test_on_a_phone_the_whole_photo_fits_and_a_touch_stroke_at_its_edge_erases_there(
    phone, photo, tmp_path, screenshot_path
):
    upload(phone, photo)
    canvas = canvas_of(phone)
    # The page learns the column's width from the browser just after loading, then redraws.
    phone.wait_for_function(
        "() => { const c = document.querySelector('[class*=st-key-eraser_canvas]');"
        " return c && c.getBoundingClientRect().width <= 390; }"
    )
    canvas = canvas_of(phone)
    box = canvas.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # the whole width, nothing cut off
    assert box["width"] >= 340
    assert inside_window(phone, canvas)

    touch_paint(phone, EDGE)
    erase(phone, 1)
    assert inside_window(phone, phone.get_by_role("button", name="Download"))
    # The whole title in sight, below the header that holds the sidebar's button.
    assert seen_on_top(phone, "Eraser", seconds=0) == IN_SIGHT
    phone.screenshot(path=screenshot_path("screenshot-phone.png"))
    result = download(phone, tmp_path)
    assert gone(result, EDGE) and not gone(result, BALL)


def seen(page, box):
    """What the window shows in a box (page pixels), as RGB at that box's size."""
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB"))
    return cv2.resize(shot, (round(box["width"]), round(box["height"])), interpolation=cv2.INTER_AREA).astype(int)


def in_box(box, ball):
    """A ball mapped from photo pixels to a box showing the whole photo."""
    scale = box["width"] / SIZE[0]
    return tuple(round(v * scale) for v in ball)


def yellow_pixels(pixels):
    return int(((pixels[..., :2].min(axis=-1) - pixels[..., 2]) > 90).sum())


@pytest.mark.parametrize("window", ["laptop", "phone"])
def test_compare_slides_between_the_original_and_the_erased_photo_in_the_canvas_place(
    window, browser, app_url, photo
):
    context, page = open_app(browser, app_url, **(LAPTOP if window == "laptop" else PHONE))
    try:
        upload(page, photo)
        if window == "phone":  # the page learns the column's width just after loading, then redraws
            page.wait_for_function(
                "() => { const c = document.querySelector('[class*=st-key-eraser_canvas]');"
                " return c && c.getBoundingClientRect().width <= 390; }"
            )
        (paint if window == "laptop" else touch_paint)(page, BALL)
        erase(page, 1)
        canvas_box = canvas_of(page).bounding_box()
        page.get_by_text("Compare", exact=True).click()
        slider = page.get_by_label("Original and erased")
        expect(slider).to_be_visible()
        expect(page.locator("canvas.upper-canvas")).to_have_count(0)
        box = page.locator(".cmp").bounding_box()  # the picture: where and as large as the canvas was
        assert all(abs(box[k] - canvas_box[k]) <= 1 for k in ("x", "y", "width", "height")), (box, canvas_box)
        ball, second = in_box(canvas_box, BALL), in_box(canvas_box, SECOND)
        for image in page.locator(".cmp img").all():
            image.evaluate("img => img.decode()")  # both pictures are ready to be seen
        page.wait_for_timeout(300)  # and painted

        slider.fill("100")  # all original
        original = seen(page, canvas_box)
        assert yellowness(original, ball) > 120 and yellowness(original, second) > 120
        slider.fill("0")  # all erased
        erased = seen(page, canvas_box)
        assert gone(erased, ball) and yellowness(erased, second) > 120
        slider.fill("50")  # the left half original, the right half erased: the ball is at 58 %
        half = seen(page, canvas_box)
        assert gone(half, ball)

        # Nothing of the original outside the canvas's place (below it, say): no yellow ball.
        view = page.viewport_size
        window_pixels = seen(page, {"x": 0, "y": 0, **view})
        x, y = round(canvas_box["x"]), round(canvas_box["y"])
        assert y + canvas_box["height"] < view["height"] - 20  # some of what is below is in sight
        window_pixels[y : y + round(canvas_box["height"]), x : x + round(canvas_box["width"])] = 0
        assert yellow_pixels(window_pixels) < 20

        page.get_by_text("Compare", exact=True).click()
        expect(page.locator("canvas.upper-canvas")).to_be_visible()
    finally:
        context.close()


def test_the_canvas_has_no_undo_of_its_own(page, photo):
    upload(page, photo)
    canvas = canvas_of(page)
    canvas.hover()
    hidden = page.wait_for_function(
        """() => {
            for (const host of document.querySelectorAll('*')) {
                const bar = host.shadowRoot && host.shadowRoot.querySelector('.dc-toolbar');
                if (bar) return getComputedStyle(bar).display === 'none';
            }
            return false;
        }"""
    )
    assert hidden.json_value() is True
    expect(page.get_by_role("button", name="Undo", exact=True)).to_have_count(0)


def test_a_visit_to_about_keeps_the_drawing_and_the_steps(page, photo, tmp_path):
    upload(page, photo)
    paint(page, SECOND)
    erase(page, 1)
    paint(page, BALL)
    expect(page.get_by_role("button", name="Erase", exact=True)).to_be_enabled()

    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="About").click()
    expect(page.get_by_role("heading", name="About Eraser")).to_be_visible()
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Erase").click()
    expect(page.get_by_role("button", name="Undo erase")).to_be_enabled()  # the step is there
    erase(page, 2)  # and so is the drawing: Erase works without painting again
    result = download(page, tmp_path)
    # Said apart, so that a failure tells a lost drawing (the ball stays) from a lost step (the second comes back).
    assert gone(result, BALL), f"the ball painted before About is still there: {yellowness(result, BALL)}"
    assert gone(result, SECOND), f"the first erase is undone: {yellowness(result, SECOND)}"


def test_a_reload_brings_the_photo_and_its_steps_back(page, photo, tmp_path, browser, app_url):
    upload(page, photo)
    paint(page, SECOND)
    erase(page, 1)
    expect(page).to_have_url(re.compile(r"[?&]work=[\w-]{20,}"))
    page.reload()
    expect(page.get_by_text("Erase 1 done")).to_be_visible()
    expect(page.get_by_role("button", name="Undo erase")).to_be_enabled()
    canvas_of(page)
    assert gone(download(page, tmp_path), SECOND)

    context, stranger = open_app(browser, app_url, **LAPTOP)  # the same server, without the token
    try:
        expect(stranger.get_by_text("Remove unwanted objects from a photo")).to_be_visible()
        expect(stranger.locator("canvas.upper-canvas")).to_have_count(0)
    finally:
        context.close()


def test_a_one_pixel_photo_is_refused_in_words(page, tmp_path):
    dot = tmp_path / "dot.png"
    dot.write_bytes(encode(np.full((1, 1, 3), 200, np.uint8)))
    upload(page, dot)
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_have_text(
        "The photo is 1x1 pixels, too small to edit: choose one at least 16 pixels on each side."
    )
    expect(page.locator("canvas.upper-canvas")).to_have_count(0)


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


def test_refused_files_are_said_in_the_main_area_and_the_photo_stays(page, photo, tmp_path):
    upload(page, photo)
    canvas_of(page)
    gif, big, truncated = tmp_path / "cat.gif", tmp_path / "huge.jpg", tmp_path / "cut.jpg"
    Image.new("RGB", (64, 64), "red").save(gif, "GIF")
    big.write_bytes(bytes(60 * 2**20))  # over the library's 50 MB cap, under the uploader's
    truncated.write_bytes(photo.read_bytes()[:50_000])
    main = page.get_by_test_id("stMain")
    for refused, words in ((gif, "looks like a GIF"), (big, "The photo file is 60 MB"), (truncated, "")):
        upload(page, refused)
        alert = main.get_by_test_id("stAlertContentError")
        expect(alert).to_be_visible(timeout=60_000)
        expect(alert).to_contain_text(words)
        assert inside_window(page, alert)
        expect(main.get_by_text("Still editing street.jpg")).to_be_visible()
        expect(page.locator("canvas.upper-canvas")).to_be_visible()  # the photo stays on the canvas

    paint(page, BALL)  # a later success clears the refusal's message
    erase(page, 1)
    expect(main.get_by_test_id("stAlertContentError")).to_have_count(0)


def test_a_failed_remote_erase_says_why_and_offers_local(page, photo, tmp_path):
    page.get_by_text("Remote", exact=True).click()
    address = page.get_by_role("textbox", name="Service address")
    address.fill("http://127.0.0.1:9")  # nothing listens there
    address.press("Enter")
    expect(page.get_by_text("An API key is needed for this service")).to_be_visible()
    key = page.get_by_role("textbox", name="API key")
    key.fill("some-key")
    key.press("Enter")
    expect(page.get_by_text("An API key is needed for this service")).to_have_count(0)  # the key is in
    upload(page, photo)
    paint(page, BALL)
    page.get_by_role("button", name="Erase", exact=True).click()
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_be_visible(timeout=90_000)
    assert "some-key" not in alert.inner_text()
    expect(page.locator("canvas.upper-canvas")).to_be_visible()  # the photo and mask stay

    page.get_by_role("button", name="Switch to Local").click()
    expect(alert).to_have_count(0)
    erase(page, 1)
    assert gone(download(page, tmp_path), BALL)


def test_download_at_once_after_an_erase_gives_that_erase(page, photo, tmp_path):
    """The full-size file is made just after the erased photo reaches the canvas: a click on
    Download as soon as it shows must give that photo, never the step before."""
    upload(page, photo)
    paint(page, SECOND)
    erase(page, 1)
    paint(page, BALL)
    button = page.get_by_role("button", name="Erase", exact=True)
    expect(button).to_be_enabled()
    old = page.locator(LIVE_CANVAS).first.get_attribute("class")
    button.click()
    # The new canvas is on screen: Download at once (the click waits while it is disabled).
    expect(page.locator(LIVE_CANVAS).first).not_to_have_class(old, timeout=60_000)
    result = download(page, tmp_path)
    assert gone(result, BALL) and gone(result, SECOND)
    expect(page.get_by_text("Erase 2 done")).to_be_visible()


# In the page: each frame, whether the action row's buttons are on screen (a box of their own).
WATCH_ROW = """names => {
    window.rowFrames = [];
    window.watchingRow = true;
    const look = () => {
        const shown = [...document.querySelectorAll('button')]
            .filter(b => b.getBoundingClientRect().height > 0).map(b => b.innerText);
        window.rowFrames.push(names.every(name => shown.some(text => text.includes(name))));
        if (window.watchingRow) requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
}"""


def test_the_action_row_stays_on_screen_while_a_stroke_reruns_the_page(page, photo):
    """Each stroke reruns the editor: its buttons must not blink away meanwhile (they did, every
    stroke, while the row was drawn into slots that a run empties first)."""
    upload(page, photo)
    paint(page, SECOND)
    erase(page, 1)
    expect(page.locator("[data-stale='true']")).to_have_count(0)
    page.evaluate(WATCH_ROW, ["Undo erase", "Download"])
    paint(page, BALL)
    expect(page.get_by_role("button", name="Erase", exact=True)).to_be_enabled()  # the stroke's run
    expect(page.locator("[data-stale='true']")).to_have_count(0)
    frames = page.evaluate("window.watchingRow = false; window.rowFrames")
    assert len(frames) > 10 and all(frames), f"{frames.count(False)} of {len(frames)} frames lacked the buttons"
