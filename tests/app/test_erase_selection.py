"""Precise selection on the Erase page through AppTest: zoom and pan with marks kept in the photo's
own pixels, Select object (a box becomes the object's outline), and the Keep out brush."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

import eraser
from eraser.errors import MaskError
from eraser.select import select_object
from tests.app.test_erase_page import button, edit, pixels, upload
from tests.support.photos import encode, object_scene, scene
from tests.unit.test_keep_out import yellow_scene, yellowish

pytestmark = pytest.mark.slow

SIZE = (2816, 1440)  # shown at 704 x 360 on a laptop: 1:1 is 4 times the whole photo's scale
SHOWN = (704, 360)
GROW = 6  # the page erases with the library's default growth; a few pixels more for JPEG-free PNG


@pytest.fixture
def erased(monkeypatch):
    """What reaches the library's erase: one dict per fill, with the mask and the keep-out. A stroke
    starts a fill ahead (ui/ahead.py): the last one is what Erase used."""
    calls = []
    real = eraser.pipeline.erase

    def recording(photo, mask, **kwargs):
        calls.append({"mask": np.asarray(mask).copy(), "keep_out": kwargs.get("keep_out")})
        return real(photo, mask, **kwargs)

    monkeypatch.setattr(eraser.pipeline, "erase", recording)
    return calls


def choose(app, engine):
    app.sidebar.radio[1].set_value(engine)
    return app.run()


def tool(app, name):
    app.button_group(key="eraser_tool").set_value(name)
    return app.run()


def zoom(app, level):
    app.selectbox(key="eraser_zoom_input").set_value(level)
    return app.run()


def background(canvas):
    return np.asarray(Image.open(io.BytesIO(canvas.calls[-1]["background_image"])).convert("RGB")).astype(int)


def shows(shown, photo, x0, y0):
    """Whether the canvas shows the photo from (x0, y0) at one photo pixel per screen pixel: it
    matches there better than one or two pixels off (the browser's JPEG blurs the grain)."""
    height, width = shown.shape[:2]

    def off(dx, dy):
        part = photo[y0 + dy + 2 : y0 + dy + height - 2, x0 + dx + 2 : x0 + dx + width - 2].astype(int)
        return np.abs(shown[2:-2, 2:-2] - part).mean()

    return all(off(0, 0) < off(dx, dy) for dx in (-2, -1, 0, 1, 2) for dy in (-2, -1, 0, 1, 2) if dx or dy)


def box_mask(size, *boxes):
    mask = np.zeros((size[1], size[0]), bool)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


def test_zoom_offers_up_to_one_photo_pixel_per_screen_pixel_and_pans_by_half_a_view(app, canvas):
    upload(app, encode(scene(*SIZE), "PNG"), "wall.png", "image/png")
    assert app.selectbox(key="eraser_zoom_input").options == ["Whole photo", "2x", "1:1"]
    assert button(app, "Left").disabled and button(app, "Right").disabled  # the whole photo: nowhere to go
    whole = background(canvas)

    zoom(app, "1:1")
    call = canvas.calls[-1]
    assert (call["width"], call["height"]) == SHOWN  # the canvas keeps its place and size
    assert shows(background(canvas), scene(*SIZE), 1056, 540)  # the middle, one photo pixel per screen pixel

    clicks = 0
    while not button(app, "Right").disabled and clicks < 5:
        button(app, "Right").click()
        app.run()
        clicks += 1
    assert clicks == 3 and not button(app, "Left").disabled  # 352 photo pixels each, then the edge
    assert shows(background(canvas), scene(*SIZE), SIZE[0] - 704, 540)

    zoom(app, "Whole photo")
    assert np.abs(background(canvas) - whole).mean() < 1
    assert not app.exception


def test_strokes_at_two_zoom_levels_are_both_erased_in_photo_pixels(app, canvas, erased):
    photo = encode(scene(*SIZE), "PNG")
    choose(app, "telea")
    upload(app, photo, "wall.png", "image/png")
    plain = background(canvas)
    canvas.paint((0.1, 0.1, 0.2, 0.2))  # the whole photo: 704 x 360 canvas pixels for 2816 x 1440
    app.run()
    zoom(app, "1:1")  # the middle: photo pixels 1056..1760 across, 540..900 down
    button(app, "Right").click()  # half a view: 1408..2112 across
    app.run()
    canvas.paint((0.5, 0.5, 0.6, 0.6))  # canvas pixels 352..422 across, 180..216 down
    app.run()
    zoom(app, "Whole photo")
    redder = background(canvas)[..., 0] - plain[..., 0]  # both marks tinted on the whole photo
    assert redder[40:70, 80:130].mean() > 40 and redder[181:188, 441:456].mean() > 40
    assert abs(redder[300:, :300].mean()) < 2
    assert not button(app, "Erase").disabled

    button(app, "Erase").click()
    app.run()
    call = erased[-1]
    mask = call["mask"]
    zoomed = box_mask(SIZE, (1760, 720, 1830, 756))  # exactly, at one photo pixel per screen pixel
    assert np.array_equal(mask[650:850, 1700:1900], zoomed[650:850, 1700:1900])
    whole = box_mask(SIZE, (70 * 4, 36 * 4, 141 * 4, 72 * 4))
    assert np.count_nonzero(mask[:400, :600] != whole[:400, :600]) < 0.02 * whole.sum()  # nearest-pixel edges
    assert call["keep_out"] is None

    before, after = pixels(photo), pixels(edit(app).current.data)
    moved = np.abs(after - before).sum(axis=2) > 0
    assert moved[whole].mean() > 0.5 and moved[zoomed].mean() > 0.5
    near = cv2.dilate((whole | zoomed).astype(np.uint8), np.ones((2 * GROW + 1,) * 2, np.uint8)) > 0
    assert not moved[~near].any()  # every other pixel as it was
    assert app.session_state["eraser_marks"] is None  # a fresh start on the erased photo


def test_on_a_phone_the_brush_is_as_fine_and_1_1_shows_photo_pixels_too(app, canvas, erased):
    choose(app, "telea")
    upload(app, encode(scene(*SIZE), "PNG"), "wall.png", "image/png")
    laptop = canvas.calls[-1]
    app.session_state["eraser_width"] = 358  # what the layout probe reports on a 390 px phone
    app.run()
    phone = canvas.calls[-1]
    assert (phone["width"], phone["height"]) == (358, 183)
    # The same share of the canvas, so the same share of the photo: not twice as coarse.
    assert abs(phone["stroke_width"] / phone["width"] - laptop["stroke_width"] / laptop["width"]) < 0.002
    assert app.selectbox(key="eraser_zoom_input").options == ["Whole photo", "2x", "4x", "1:1"]

    zoom(app, "1:1")  # the middle 358 x 183 photo pixels: 1229..1587 across, about 628..811 down
    assert canvas.calls[-1]["stroke_width"] == phone["stroke_width"]  # the same on screen, finer on the photo
    canvas.paint((0.5, 0.5, 0.6, 0.6))  # canvas pixels 179..215 across, 92..110 down
    app.run()
    button(app, "Erase").click()
    app.run()
    call = erased[-1]
    rows, cols = np.nonzero(call["mask"])
    assert (cols.min(), cols.max() + 1, rows.max() + 1 - rows.min()) == (1408, 1444, 18)
    assert rows.min() in (628 + 92, 629 + 92) and call["mask"].sum() == 36 * 18


def test_a_box_around_an_object_becomes_its_outline_and_is_erased(app, canvas, erased):
    photo, outline = object_scene(640, 480)
    data = encode(photo, "PNG")
    choose(app, "telea")
    upload(app, data, "scene.png", "image/png")
    tool(app, "Select object")
    assert canvas.calls[-1]["drawing_mode"] == "rect"
    ys, xs = np.nonzero(outline)
    width, height = 640, 480
    canvas.paint(((xs.min() - 30) / width, (ys.min() - 30) / height, (xs.max() + 30) / width,
                  (ys.max() + 30) / height))
    app.run()

    marks = app.session_state["eraser_marks"]
    overlap = (marks & outline).sum() / (marks | outline).sum()
    assert overlap > 0.85 and marks[outline].mean() > 0.97  # the outline, grown a little against halos
    first = canvas.calls[-1]
    assert not first["initial_drawing"] and canvas.key not in canvas.drawings  # the box is gone
    tinted = background(canvas)
    shown = cv2.resize(outline.astype(np.uint8), (first["width"], first["height"])) > 0
    assert tinted[shown, 0].mean() > pixels(encode(photo))[..., 0][outline].mean() - 5
    assert np.abs(tinted[~shown] - background_of(photo, first)[~shown]).mean() < 8  # only the object tinted
    assert not button(app, "Erase").disabled

    button(app, "Erase").click()
    app.run()
    call = erased[-1]
    assert np.array_equal(call["mask"], marks)
    after = pixels(edit(app).current.data)
    magenta = (after[..., 0] > 150) & (after[..., 1] < 90) & (after[..., 2] > 120)
    assert magenta[outline].mean() < 0.02  # the object is gone


def background_of(photo, call):
    return cv2.resize(photo, (call["width"], call["height"]), interpolation=cv2.INTER_LINEAR).astype(int)


def test_a_box_on_plain_sky_shows_the_library_sentence(app, canvas):
    pixels_ = scene(640, 480)
    upload(app, encode(pixels_, "PNG"), "wall.png", "image/png")
    tool(app, "Select object")
    canvas.paint((40 / 640, 20 / 480, 600 / 640, 140 / 480))  # the sky gradient only
    app.run()
    with pytest.raises(MaskError) as caught:
        select_object(pixels_, box=(40, 20, 600, 140))
    assert [e.value for e in app.error] == [str(caught.value)]
    assert str(caught.value).startswith("No object stands out in the box")
    assert app.session_state["eraser_marks"] is None and button(app, "Erase").disabled
    assert not app.exception


def test_keep_out_reaches_the_backend_and_the_fill_copies_none_of_it(app, canvas, erased):
    photo, hole, yellow = yellow_scene()
    width, height = photo.size
    choose(app, "patchmatch")
    upload(app, encode(photo.pixels, "PNG"), "yellow.png", "image/png")
    ys, xs = np.nonzero(hole)
    canvas.paint((xs.min() / width, ys.min() / height, (xs.max() + 1) / width, (ys.max() + 1) / height))
    app.run()
    tool(app, "Keep out")
    call = canvas.calls[-1]
    assert call["drawing_mode"] == "freedraw" and call["stroke_color"] != canvas.calls[-3]["stroke_color"]
    ys, xs = np.nonzero(yellow)
    canvas.paint((xs.min() / width, ys.min() / height, (xs.max() + 1) / width, (ys.max() + 1) / height))
    app.run()
    shown = background(canvas)  # the erase mark red, the keep-out blue
    middle = lambda mask: tuple(int(v) for v in np.argwhere(mask).mean(axis=0) * call["width"] / width)  # noqa: E731
    y, x = middle(hole)
    assert shown[y, x, 0] > shown[y, x, 2]

    button(app, "Erase").click()
    app.run()
    sent = erased[-1]
    assert sent["keep_out"] is not None and sent["keep_out"][yellow].mean() > 0.95
    after = pixels(edit(app).current.data)
    assert yellowish(after)[hole].sum() == 0  # the only yellow was kept out of the fill
    near = cv2.dilate(sent["mask"].astype(np.uint8), np.ones((2 * GROW + 1,) * 2, np.uint8)) > 0
    assert np.array_equal(after[~near], photo.pixels[~near])  # the kept-out yellow included


def test_keep_out_is_refused_in_words_by_the_online_service(app, canvas):
    upload(app, encode(scene(640, 480), "PNG"), "wall.png", "image/png")
    canvas.paint((0.1, 0.1, 0.2, 0.2))
    app.run()
    tool(app, "Keep out")
    canvas.paint((0.5, 0.5, 0.6, 0.6))
    app.run()
    app.sidebar.radio[0].set_value("Remote")
    app.run()
    app.sidebar.text_input[1].input("a-key")
    app.run()
    button(app, "Erase").click()
    app.run()
    assert [e.value for e in app.error] == [
        "The online service cannot keep regions out of the fill. Clear the keep-out marks, or erase with Local."
    ]
    assert not edit(app).erased
