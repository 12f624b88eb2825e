"""The Erase page through AppTest: the editor's flow, each error path, and what a stroke costs."""

import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import eraser
from eraser import Photo, steps
from eraser.editor import EARLIER_DROPPED
from eraser.errors import EngineError, EraserError
from eraser.images import MIN_SIDE
from eraser.steps import StepStore
from tests.app.conftest import APP
from tests.support.photos import encode
from tests.unit.test_steps import moved

COLUMN = 704  # the page's column on a laptop, until the browser reports another width
MAX_HEIGHT = 360


def upload(app, data, name="street.jpg", mime="image/jpeg"):
    app.file_uploader[0].set_value((name, data, mime))
    return app.run()


def button(app, label):
    (found,) = [b for b in app.button if b.label == label]
    return found


def download(app):
    (found,) = app.get("download_button")
    return found


def pixels(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def edit(app):
    return app.session_state["eraser_edit"]


def erase_box(app, canvas, box=(0.4, 0.4, 0.6, 0.6)):
    canvas.paint(box)
    app.run()
    button(app, "Erase").click()
    return app.run()


def compare_on_and_off(app):
    """Compare shows the original and the erased photo, then back to the canvas."""
    app.toggle(key="eraser_compare_input").set_value(True)
    app.run()
    assert not app.exception and [e for e in app.main.get("bidi_component") if e.key.startswith("eraser_compare")]
    app.toggle(key="eraser_compare_input").set_value(False)
    app.run()


def compare_data(app) -> dict:
    """What the Compare view was given: both pictures (data URLs) and their size."""
    (view,) = [e for e in app.main.get("bidi_component") if e.key.startswith("eraser_compare_view")]
    return json.loads(view.proto.json)


def changed(before, after, box):
    """Mean change inside a box given in fractions of the photo."""
    height, width = before.shape[:2]
    x0, y0, x1, y1 = box
    rows, cols = slice(round(y0 * height), round(y1 * height)), slice(round(x0 * width), round(x1 * width))
    return np.abs(after[rows, cols] - before[rows, cols]).mean()


def library_message(data):
    with pytest.raises(EraserError) as caught:
        Photo.open(data, "broken.jpg")
    return str(caught.value)


def test_the_page_starts_with_the_photo_uploader(app, canvas):
    assert app.main.get("file_uploader")[0].label.startswith("Photo")
    assert not canvas.calls
    assert not [b for b in app.button if b.label == "Erase"]
    assert not app.exception


def test_an_upload_shows_the_photo_on_a_canvas_as_wide_as_the_column(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    call = canvas.calls[-1]
    # Small photos are enlarged: to the column's width, or to the height limit for a 3:2 photo.
    assert (call["width"], call["height"]) == (round(240 * MAX_HEIGHT / 160), MAX_HEIGHT)
    background = Image.open(io.BytesIO(call["background_image"]))
    assert background.format == "JPEG" and background.size == (call["width"], call["height"])
    assert call["drawing_mode"] == "freedraw" and call["return_image_data"]
    assert button(app, "Erase").disabled
    assert button(app, "Undo erase").disabled and button(app, "Redo erase").disabled
    assert download(app).disabled  # nothing erased yet
    assert not app.error and not app.exception


@pytest.mark.slow
def test_on_a_phone_the_canvas_fits_the_reported_width_and_maps_to_the_photo(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    app.session_state["eraser_width"] = 358  # what the layout probe reports on a 390 px phone
    app.run()
    call = canvas.calls[-1]
    assert (call["width"], call["height"]) == (358, round(160 * 358 / 240))
    erase_box(app, canvas, (0.9, 0.4, 1.0, 0.6))  # at the photo's right edge
    before, after = pixels(photo_jpeg), pixels(edit(app).current.data)
    assert after.shape == before.shape
    assert changed(before, after, (0.92, 0.42, 1.0, 0.58)) > 3
    assert changed(before, after, (0.0, 0.0, 0.5, 0.3)) < 3


@pytest.mark.slow
def test_a_tall_photo_fits_the_height(app, canvas, photo_png):
    portrait = np.ascontiguousarray(pixels(photo_png).astype(np.uint8).transpose(1, 0, 2))  # 150 x 200
    upload(app, encode(np.tile(portrait, (4, 1, 1))), "tall.png", "image/png")  # 150 x 800
    call = canvas.calls[-1]
    assert call["height"] == MAX_HEIGHT and call["width"] == round(150 * MAX_HEIGHT / 800)


@pytest.mark.slow
def test_a_transparent_photo_is_shown_on_white(app, canvas):
    rgba = np.zeros((100, 200, 4), np.uint8)
    rgba[:, 100:] = (0, 0, 255, 255)  # left half fully transparent (and black underneath)
    upload(app, encode(rgba), "logo.png", "image/png")
    shown = pixels(canvas.calls[-1]["background_image"])
    half = shown.shape[1] // 2
    assert shown[:, : half - 10].min() > 240 and shown[:, half + 10 :, 2].min() > 240


@pytest.mark.slow
def test_erase_replaces_the_photo_on_a_clean_canvas_and_offers_the_download(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    old_key, old_background = canvas.key, canvas.calls[-1]["background_image"]
    erase_box(app, canvas)

    assert not app.error and not app.exception
    assert canvas.key != old_key and button(app, "Erase").disabled  # the strokes are gone
    shown = pixels(canvas.calls[-1]["background_image"])
    assert changed(pixels(old_background), shown, (0.42, 0.42, 0.58, 0.58)) > 3  # the erased photo
    result = download(app)
    assert not result.disabled
    before, after = pixels(photo_jpeg), pixels(edit(app).current.data)
    assert after.shape == before.shape
    assert changed(before, after, (0.44, 0.44, 0.56, 0.56)) > 3  # under the mark
    assert changed(before, after, (0.0, 0.0, 0.25, 0.2)) < 3  # far from it
    assert not button(app, "Undo erase").disabled and button(app, "Redo erase").disabled
    assert "Erase 1 done" in app.caption[0].value and "Local, PatchMatch" in app.caption[0].value


@pytest.mark.slow
def test_the_download_is_the_current_photo_at_full_size_and_in_its_format(app, canvas, photo_png):
    upload(app, photo_png, "plan.png", "image/png")
    erase_box(app, canvas)
    assert app.session_state["eraser_file"] == {"file_name": "plan_erased.png", "mime": "image/png"}
    data = edit(app).current.data
    assert Image.open(io.BytesIO(data)).format == "PNG" and Image.open(io.BytesIO(data)).size == (200, 150)
    # What the button serves: Streamlit keeps the bytes in its media store under the button's URL.
    assert download(app).proto.url


@pytest.mark.slow
def test_undo_and_redo_walk_the_erases(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    first = edit(app).current.data
    erase_box(app, canvas, (0.1, 0.1, 0.2, 0.2))
    second = edit(app).current.data
    assert first != second

    button(app, "Undo erase").click()
    app.run()
    assert edit(app).current.data == first and not download(app).disabled
    assert not button(app, "Redo erase").disabled
    assert pixels(canvas.calls[-1]["background_image"]).shape[1] == round(240 * MAX_HEIGHT / 160)
    button(app, "Undo erase").click()
    app.run()
    assert edit(app).current.data == photo_jpeg
    assert button(app, "Undo erase").disabled and download(app).disabled
    button(app, "Redo erase").click()
    app.run()
    button(app, "Redo erase").click()
    app.run()
    assert edit(app).current.data == second and button(app, "Redo erase").disabled


@pytest.mark.slow
def test_a_new_erase_after_undo_clears_redo(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    erase_box(app, canvas, (0.1, 0.1, 0.2, 0.2))
    button(app, "Undo erase").click()
    app.run()
    erase_box(app, canvas, (0.7, 0.7, 0.8, 0.8))
    assert len(edit(app).steps) == 3 and button(app, "Redo erase").disabled


@pytest.mark.slow
def test_the_history_is_bounded(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    for _ in range(7):
        erase_box(app, canvas)
    undos = 0
    while not button(app, "Undo erase").disabled:
        button(app, "Undo erase").click()
        app.run()
        undos += 1
    assert undos == 5 == edit(app).max_steps
    assert edit(app).original.data == photo_jpeg  # still there to compare with


@pytest.mark.slow
def test_each_step_records_who_erased_it(app, canvas, photo_jpeg):
    app.sidebar.radio[1].set_value("telea")
    app.run()
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    step = edit(app).current
    assert step.engine == "Local, Telea" and step.seconds > 0


@pytest.mark.slow
def test_compare_shows_original_and_erased_photo_in_the_canvas_place(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    assert app.toggle(key="eraser_compare_input").disabled  # nothing to compare yet
    erase_box(app, canvas)
    size = (canvas.calls[-1]["width"], canvas.calls[-1]["height"])
    calls = len(canvas.calls)
    app.toggle(key="eraser_compare_input").set_value(True)
    app.run()

    assert len(canvas.calls) == calls  # the canvas gives its place to the comparison
    data = compare_data(app)
    assert (data["width"], data["height"]) == size
    assert data["was"].startswith("data:image/jpeg;base64,") and data["was"] != data["now"]
    assert button(app, "Erase").disabled

    app.toggle(key="eraser_compare_input").set_value(False)
    app.run()
    assert len(canvas.calls) == calls + 1


@pytest.mark.slow
def test_the_drawing_survives_a_visit_to_about(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    canvas.paint((0.1, 0.1, 0.3, 0.3))
    app.run()
    painted_key = canvas.key
    app.switch_page("pages/about.py").run()
    del app.session_state[painted_key]  # what Streamlit does to a widget that was not drawn
    app.switch_page("pages/erase.py").run()

    call = canvas.calls[-1]
    assert call["key"] != painted_key  # a new canvas, started from the saved drawing
    assert call["initial_drawing"] == {"objects": [{"box": (0.1, 0.1, 0.3, 0.3)}]}
    assert not button(app, "Erase").disabled  # the saved drawing is the mask until the browser sends one
    button(app, "Erase").click()
    app.run()
    before, after = pixels(photo_jpeg), pixels(edit(app).current.data)
    assert changed(before, after, (0.12, 0.12, 0.28, 0.28)) > 3
    assert changed(before, after, (0.6, 0.6, 1.0, 1.0)) < 3


@pytest.mark.slow
def test_the_steps_and_settings_survive_a_visit_to_about(app, canvas, photo_jpeg):
    app.sidebar.radio[1].set_value("telea")
    app.run()
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    app.switch_page("pages/about.py").run()
    app.switch_page("pages/erase.py").run()
    assert not button(app, "Undo erase").disabled and not download(app).disabled
    assert app.sidebar.radio[1].value == "telea"


@pytest.mark.slow
def test_a_new_upload_resets_the_drawing_and_the_history(app, canvas, photo_jpeg, photo_png):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    canvas.paint()
    app.run()
    old_key = canvas.key

    upload(app, photo_png, "plan.png", "image/png")
    assert canvas.key != old_key and button(app, "Erase").disabled
    assert button(app, "Undo erase").disabled and download(app).disabled
    assert edit(app).current.data == photo_png


@pytest.mark.slow
def test_clear_mask_empties_the_canvas(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    canvas.paint()
    app.run()
    assert not button(app, "Erase").disabled
    button(app, "Clear mask").click()
    app.run()
    assert button(app, "Erase").disabled


@pytest.mark.slow
def test_the_rectangle_tool_draws_rectangles(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    app.slider(key="eraser_brush").set_value(80)
    app.run()
    call = canvas.calls[-1]  # the brush is measured on a 704 px canvas and scales with this one
    assert (call["drawing_mode"], call["stroke_width"]) == ("freedraw", round(80 * call["width"] / 704))
    app.button_group(key="eraser_tool").set_value("Rectangle")
    app.run()
    assert (canvas.calls[-1]["drawing_mode"], canvas.calls[-1]["stroke_width"]) == ("rect", 1)
    assert app.slider(key="eraser_brush").disabled


@pytest.mark.slow
def test_a_mask_file_can_replace_the_drawing(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    mask = np.zeros((160, 240), np.uint8)
    mask[60:100, 100:140] = 255
    app.file_uploader[1].set_value(("mask.png", encode(mask), "image/png"))
    app.run()
    assert not button(app, "Erase").disabled
    button(app, "Erase").click()
    app.run()
    assert edit(app).erased and not app.error


@pytest.mark.slow
def test_a_mask_file_of_the_wrong_shape_shows_the_library_message(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    app.file_uploader[1].set_value(("mask.png", encode(np.full((100, 100), 255, np.uint8)), "image/png"))
    app.run()
    assert "100x100" in app.error[0].value and "240x160" in app.error[0].value
    assert button(app, "Erase").disabled and not app.exception


@pytest.mark.parametrize(
    "data",
    [b"", b"this is not a photo", b"GIF89a" + bytes(100), encode(np.zeros((1, 1, 3), np.uint8))],
    ids=["empty", "text", "gif-named-jpg", "one-pixel"],
)
@pytest.mark.slow
def test_a_refused_upload_shows_the_library_message_only(app, canvas, data):
    upload(app, data, "broken.jpg")
    assert [e.value for e in app.error] == [library_message(data)]
    assert not app.exception and not canvas.calls


def test_a_photo_too_small_to_edit_is_refused_in_words(app, canvas):
    upload(app, encode(np.zeros((1, 1, 3), np.uint8)), "dot.png", "image/png")
    assert app.error[0].value == (
        f"The photo is 1x1 pixels, too small to edit: choose one at least {MIN_SIDE} pixels on each side."
    )


@pytest.mark.slow
def test_a_damaged_upload_keeps_the_photo_its_steps_and_the_drawing(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    erased = edit(app).current.data
    canvas.paint()
    app.run()
    truncated = photo_jpeg[: len(photo_jpeg) // 2]
    upload(app, truncated, "broken.jpg")

    assert [e.value for e in app.error] == [library_message(truncated)]
    assert edit(app).current.data == erased and not button(app, "Undo erase").disabled
    assert not button(app, "Erase").disabled  # the drawing survived too
    assert "Still editing **street.jpg**: its steps and drawing are kept." in [i.value for i in app.info]
    button(app, "Erase").click()
    app.run()  # a later success: the message belonged to the refused upload, and goes
    assert not app.error and not app.info and edit(app).erase_count == 2
    upload(app, truncated, "broken.jpg")
    upload(app, photo_jpeg, "again.jpg")
    assert not app.error


@pytest.mark.slow
def test_a_gif_while_editing_is_refused_in_words_and_the_photo_stays(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    gif = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(gif, "GIF")
    upload(app, gif.getvalue(), "cat.gif", "image/gif")
    assert [e.value for e in app.error] == [library_message(gif.getvalue())]
    assert "GIF" in app.error[0].value
    assert edit(app).name == "street.jpg" and canvas.calls[-1]["width"] > 0


@pytest.mark.slow
def test_an_empty_mask_keeps_erase_disabled(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    assert button(app, "Erase").disabled  # nothing drawn yet
    canvas.wipe()  # an empty drawing
    app.run()
    assert button(app, "Erase").disabled


@pytest.mark.slow
def test_a_failed_erase_keeps_photo_and_mask(app, canvas, photo_jpeg, monkeypatch):
    def fail(*args, **kwargs):
        raise EngineError("The telea engine failed on this photo (ValueError). Try another engine.")

    monkeypatch.setattr(eraser.pipeline, "erase", fail)
    upload(app, photo_jpeg)
    key = canvas.key
    erase_box(app, canvas)

    assert [e.value for e in app.error] == ["The telea engine failed on this photo (ValueError). Try another engine."]
    assert not app.exception
    assert edit(app).current.data == photo_jpeg and not edit(app).erased
    assert canvas.key == key and not button(app, "Erase").disabled
    assert not [b for b in app.button if b.label == "Switch to Local"]  # Local already


@pytest.mark.slow
def test_the_engine_choice_reaches_the_library(app, canvas, photo_jpeg, monkeypatch):
    engines = []
    real = eraser.pipeline.erase
    monkeypatch.setattr(eraser.pipeline, "erase",
                        lambda *a, engine, **k: engines.append(engine) or real(*a, engine=engine, **k))
    app.sidebar.radio[1].set_value("telea")
    app.run()
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    assert [engine.name for engine in engines] == ["telea"]


@pytest.mark.slow
def test_a_stroke_never_decodes_the_photo_again_and_erase_fills_once(app, canvas, photo_jpeg, monkeypatch):
    """Counts real library calls across reruns: only an upload decodes; a stroke starts the fill
    ahead (ui/ahead.py), and Erase after the last stroke fills nothing more."""
    calls = {"open": 0, "erase": 0}
    real_open, real_erase = eraser.images._decode, eraser.pipeline.erase

    def counting_open(*args, **kwargs):
        calls["open"] += 1
        return real_open(*args, **kwargs)

    def counting_erase(*args, **kwargs):
        calls["erase"] += 1
        return real_erase(*args, **kwargs)

    monkeypatch.setattr(eraser.images, "_decode", counting_open)
    monkeypatch.setattr(eraser.pipeline, "erase", counting_erase)
    upload(app, photo_jpeg)
    assert calls == {"open": 1, "erase": 0}  # smaller than the canvas: its first look is the photo
    background = canvas.calls[-1]["background_image"]
    for box in [(0.1, 0.1, 0.2, 0.2), (0.5, 0.5, 0.6, 0.6), (0.7, 0.2, 0.8, 0.3)]:
        canvas.paint(box)
        app.run()
    assert calls["open"] == 1
    assert canvas.calls[-1]["background_image"] == background
    app.session_state["eraser_ahead"].future.result(timeout=60)  # the last stroke's fill
    filled = calls["erase"]
    assert 1 <= filled <= 3  # one per stroke at most: a fill still waiting at the next stroke is dropped

    button(app, "Erase").click()
    app.run()
    assert calls == {"open": 1, "erase": filled}  # the erased photo is shown from its pixels, not its file
    canvas.paint((0.3, 0.6, 0.4, 0.7))
    app.run()
    button(app, "Erase").click()
    app.run()
    assert calls == {"open": 1, "erase": filled + 1}  # the next erase starts from the pixels at hand too


def sent_bytes(jpeg):
    """The size of the data URL the canvas sends to the browser."""
    return len("data:image/jpeg;base64,") + 4 * -(-len(jpeg) // 3)


@pytest.mark.slow
def test_a_12_megapixel_photo_gets_a_small_canvas_background(app, canvas, big_jpeg):
    upload(app, big_jpeg, "big.jpg")
    call = canvas.calls[-1]
    assert call["width"] <= COLUMN and call["height"] <= MAX_HEIGHT
    assert sent_bytes(call["background_image"]) <= 400_000


@pytest.mark.slow
def test_even_pure_noise_stays_under_the_payload_budget(app, canvas):
    noise = np.random.default_rng(0).random((MAX_HEIGHT, COLUMN, 3)) * 255
    upload(app, encode(noise.astype(np.uint8), "PNG"), "noise.png", "image/png")
    assert sent_bytes(canvas.calls[-1]["background_image"]) <= 400_000


def test_undo_to_a_step_dropped_for_another_visitor_says_so_and_the_page_keeps_working(
    app, canvas, photo_jpeg, photo_png, monkeypatch
):
    monkeypatch.setattr(steps, "STORE", StepStore(memory_bytes=2**30, disk_bytes=0))
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    erase_box(app, canvas, (0.1, 0.1, 0.2, 0.2))
    second = edit(app).current.data
    steps.STORE.memory_bytes = steps.STORE.in_memory  # full: the next visitor needs room
    visitor = AppTest.from_file(str(APP), default_timeout=30).run()
    upload(visitor, photo_png, "plan.png", "image/png")  # this session's first erase makes way

    button(app, "Undo erase").click()
    app.run()
    assert [e.value for e in app.error] == [EARLIER_DROPPED]
    assert not app.exception
    assert edit(app).current.data == second and not download(app).disabled
    assert button(app, "Undo erase").disabled  # nothing earlier is left
    steps.STORE.memory_bytes = 2**30  # the visitor has gone
    erase_box(app, canvas, (0.7, 0.7, 0.8, 0.8))  # and the work goes on
    assert not app.error and "Erase 3 done" in app.caption[0].value
    button(app, "Undo erase").click()
    app.run()
    assert edit(app).current.data == second and not app.error
    assert not visitor.exception and edit(visitor).current.data == photo_png


def test_an_idle_visitors_photo_moved_to_disk_comes_back_whole(app, canvas, photo_jpeg, photo_png, monkeypatch,
                                                               tmp_path):
    monkeypatch.setattr(steps, "STORE", StepStore(memory_bytes=0, disk_bytes=2**30, places=(tmp_path,),
                                                  idle_seconds=0))
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    first = edit(app).current.data
    erase_box(app, canvas, (0.1, 0.1, 0.2, 0.2))
    second, shown = edit(app).current.data, canvas.calls[-1]["background_image"]
    visitor = AppTest.from_file(str(APP), default_timeout=30).run()
    upload(visitor, photo_png, "plan.png", "image/png")  # makes room: this session is idle
    assert {edit(app).current.number, edit(app).original.number} <= moved(steps.STORE)

    app.run()  # the person comes back: the same photo, read back from disk
    assert not app.exception and not app.error
    assert edit(app).current.number not in moved(steps.STORE)
    assert pixels(canvas.calls[-1]["background_image"]).shape == pixels(shown).shape
    assert changed(pixels(shown), pixels(canvas.calls[-1]["background_image"]), (0, 0, 1, 1)) < 1
    assert edit(app).current.data == second and not download(app).disabled
    compare_on_and_off(app)
    button(app, "Undo erase").click()
    app.run()
    assert edit(app).current.data == first and not app.error
    button(app, "Redo erase").click()
    app.run()
    assert edit(app).current.data == second and edit(app).original.data == photo_jpeg and not app.error
    assert edit(app).original.number not in moved(steps.STORE)  # read back for Compare and Undo
    assert not visitor.exception and edit(visitor).current.data == photo_png


def test_a_photo_that_cannot_be_read_back_from_disk_is_said_in_words_and_a_new_upload_works(
    app, canvas, photo_jpeg, photo_png, monkeypatch, tmp_path
):
    monkeypatch.setattr(steps, "STORE", StepStore(memory_bytes=0, disk_bytes=2**30, places=(tmp_path,),
                                                  idle_seconds=0))
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    visitor = AppTest.from_file(str(APP), default_timeout=30).run()
    upload(visitor, photo_png, "plan.png", "image/png")  # makes room: this session's photo goes to disk
    entry = steps.STORE._entries[edit(app).current.number]
    entry.path.write_bytes(b"not the photo")  # a disk fault, or someone with this server's account

    app.run()
    assert not app.exception
    (said,) = [e.value for e in app.error]
    assert "could not be read back" in said and "Upload it again" in said
    assert edit(app) is None and not [b for b in app.button if b.label == "Erase"]  # no editor on a lost photo
    upload(app, photo_png, "plan.png", "image/png")  # the work goes on with a new upload
    assert not app.exception and not app.error and edit(app).current.data == photo_png
