"""The Erase page through AppTest: the whole flow, each error path, and what a stroke costs."""

import io

import numpy as np
import pytest
from PIL import Image

import eraser
from eraser import Photo
from eraser.errors import EngineError, EraserError
from tests.photos import encode

DISPLAY_BOX = (704, 560)


def upload(app, data, name="street.jpg", mime="image/jpeg"):
    app.file_uploader[0].set_value((name, data, mime))
    return app.run()


def button(app, label):
    (found,) = [b for b in app.button if b.label == label]
    return found


def pixels(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def erase_box(app, canvas, box=(0.4, 0.4, 0.6, 0.6)):
    canvas.paint(box)
    app.run()
    button(app, "Erase").click()
    return app.run()


def library_message(data):
    with pytest.raises(EraserError) as caught:
        Photo.open(data, "broken.jpg")
    return str(caught.value)


def test_the_page_starts_with_the_photo_uploader(app, canvas):
    assert app.main.get("file_uploader")[0].label.startswith("Photo")
    assert not canvas.calls
    assert not [b for b in app.button if b.label == "Erase"]
    assert not app.exception


def test_an_upload_shows_the_photo_on_a_screen_sized_canvas(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    call = canvas.calls[-1]
    assert (call["width"], call["height"]) == (240, 160)  # small photos are not enlarged
    assert Image.open(io.BytesIO(call["background_image"])).format == "JPEG"
    assert call["drawing_mode"] == "freedraw" and call["return_image_data"]
    assert button(app, "Erase").disabled
    assert not app.error and not app.exception


def test_a_transparent_photo_is_shown_on_white(app, canvas):
    rgba = np.zeros((100, 200, 4), np.uint8)
    rgba[:, 100:] = (0, 0, 255, 255)  # left half fully transparent (and black underneath)
    upload(app, encode(rgba), "logo.png", "image/png")
    shown = pixels(canvas.calls[-1]["background_image"])
    assert shown[:, :90].min() > 240 and shown[:, 110:, 2].min() > 240


def test_erase_shows_before_after_and_a_full_resolution_download(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    erase_box(app, canvas)

    assert not app.error and not app.exception
    assert [i.captions for i in app.image] == [["Before"], ["After"]]
    assert [b.label for b in app.get("download_button")] == ["Download"]
    result = app.session_state["eraser_result"]
    assert (result["file_name"], result["mime"]) == ("street_erased.jpg", "image/jpeg")
    before, after = pixels(photo_jpeg), pixels(result["data"])
    assert after.shape == before.shape
    assert np.abs(after[70:90, 105:135] - before[70:90, 105:135]).mean() > 3  # under the mark
    assert np.abs(after[:30, :60] - before[:30, :60]).mean() < 3  # far from it


def test_a_png_comes_back_as_png(app, canvas, photo_png):
    upload(app, photo_png, "plan.png", "image/png")
    erase_box(app, canvas)
    result = app.session_state["eraser_result"]
    assert (result["file_name"], result["mime"]) == ("plan_erased.png", "image/png")
    assert Image.open(io.BytesIO(result["data"])).format == "PNG"


def test_keep_erasing_makes_the_result_the_new_photo_on_a_clean_canvas(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    result, old_key = app.session_state["eraser_result"], canvas.key
    button(app, "Keep erasing").click()
    app.run()

    assert app.session_state["eraser_photo"]["data"] == result["data"]
    assert app.session_state["eraser_photo"]["name"] == "street.jpg"  # so the next file is street_erased.jpg
    assert app.session_state["eraser_result"] is None
    assert canvas.key != old_key and button(app, "Erase").disabled
    assert not button(app, "Undo").disabled


def test_undo_goes_back_one_step(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    assert button(app, "Undo").disabled
    erase_box(app, canvas)
    first = app.session_state["eraser_result"]["data"]
    button(app, "Keep erasing").click()
    app.run()
    erase_box(app, canvas, (0.1, 0.1, 0.2, 0.2))
    button(app, "Keep erasing").click()
    app.run()

    button(app, "Undo").click()
    app.run()
    assert app.session_state["eraser_photo"]["data"] == first
    button(app, "Undo").click()
    app.run()
    assert app.session_state["eraser_photo"]["data"] == photo_jpeg
    assert button(app, "Undo").disabled


def test_the_history_is_bounded(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    for _ in range(7):
        erase_box(app, canvas)
        button(app, "Keep erasing").click()
        app.run()
    assert len(app.session_state["eraser_history"]) == 5


def test_the_history_is_bounded_in_bytes_too(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    big = {"data": bytes(40 * 2**20), "name": "big.png", "size": (6000, 4000)}
    app.session_state["eraser_history"] = [big, big, big]
    erase_box(app, canvas)
    button(app, "Keep erasing").click()
    app.run()
    history = app.session_state["eraser_history"]
    assert len(history) == 3 and sum(len(p["data"]) for p in history) <= 100 * 2**20
    assert history[-1]["data"] == photo_jpeg  # the newest step is the one kept


def test_a_new_upload_resets_the_drawing_and_the_history(app, canvas, photo_jpeg, photo_png):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    button(app, "Keep erasing").click()
    app.run()
    canvas.paint()
    app.run()
    old_key = canvas.key

    upload(app, photo_png, "plan.png", "image/png")
    assert canvas.key != old_key and button(app, "Erase").disabled
    assert button(app, "Undo").disabled
    assert app.session_state["eraser_photo"]["data"] == photo_png


def test_clear_mask_empties_the_canvas(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    canvas.paint()
    app.run()
    assert not button(app, "Erase").disabled
    button(app, "Clear mask").click()
    app.run()
    assert button(app, "Erase").disabled


def test_the_rectangle_tool_draws_rectangles(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    app.slider(key="eraser_brush").set_value(80)
    app.run()
    assert (canvas.calls[-1]["drawing_mode"], canvas.calls[-1]["stroke_width"]) == ("freedraw", 80)
    app.radio(key="eraser_tool").set_value("Rectangle")
    app.run()
    assert (canvas.calls[-1]["drawing_mode"], canvas.calls[-1]["stroke_width"]) == ("rect", 1)
    assert app.slider(key="eraser_brush").disabled


def test_a_mask_file_can_replace_the_drawing(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    mask = np.zeros((160, 240), np.uint8)
    mask[60:100, 100:140] = 255
    app.file_uploader[1].set_value(("mask.png", encode(mask), "image/png"))
    app.run()
    assert not button(app, "Erase").disabled
    button(app, "Erase").click()
    app.run()
    assert app.session_state["eraser_result"] is not None and not app.error


def test_a_mask_file_of_the_wrong_shape_shows_the_library_message(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    app.file_uploader[1].set_value(("mask.png", encode(np.full((100, 100), 255, np.uint8)), "image/png"))
    app.run()
    assert "100x100" in app.error[0].value and "240x160" in app.error[0].value
    assert button(app, "Erase").disabled and not app.exception


@pytest.mark.parametrize(
    "data",
    [b"", b"this is not a photo", b"GIF89a" + bytes(100)],
    ids=["empty", "text", "gif-named-jpg"],
)
def test_a_refused_upload_shows_the_library_message_only(app, canvas, data):
    upload(app, data, "broken.jpg")
    assert [e.value for e in app.error] == [library_message(data)]
    assert not app.exception and not canvas.calls


def test_a_damaged_upload_keeps_the_photo_already_there(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    canvas.paint()
    app.run()
    truncated = photo_jpeg[: len(photo_jpeg) // 2]
    upload(app, truncated, "broken.jpg")

    assert [e.value for e in app.error] == [library_message(truncated)]
    assert app.session_state["eraser_photo"]["data"] == photo_jpeg
    assert not button(app, "Erase").disabled  # the drawing survived too
    upload(app, photo_jpeg, "again.jpg")
    assert not app.error


def test_an_empty_mask_keeps_erase_disabled(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    assert button(app, "Erase").disabled  # nothing drawn yet
    canvas.wipe()  # the toolbar's reset sends an empty drawing
    app.run()
    assert button(app, "Erase").disabled


def test_a_failed_erase_keeps_photo_and_mask(app, canvas, photo_jpeg, monkeypatch):
    def fail(*args, **kwargs):
        raise EngineError("The telea engine failed on this photo (ValueError). Try another engine.")

    monkeypatch.setattr(eraser, "erase", fail)
    upload(app, photo_jpeg)
    key = canvas.key
    erase_box(app, canvas)

    assert [e.value for e in app.error] == ["The telea engine failed on this photo (ValueError). Try another engine."]
    assert not app.exception
    assert app.session_state["eraser_photo"]["data"] == photo_jpeg
    assert app.session_state["eraser_result"] is None
    assert canvas.key == key and not button(app, "Erase").disabled


def test_the_engine_choice_reaches_the_library(app, canvas, photo_jpeg, monkeypatch):
    engines = []
    real = eraser.erase
    monkeypatch.setattr(eraser, "erase", lambda *a, engine, **k: engines.append(engine) or real(*a, engine=engine, **k))
    app.sidebar.selectbox[0].set_value("telea")
    app.run()
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    assert engines == ["telea"]


def test_a_stroke_neither_decodes_the_photo_again_nor_erases(app, canvas, photo_jpeg, monkeypatch):
    """Counts real library calls across reruns: only an upload decodes, only Erase erases."""
    calls = {"open": 0, "erase": 0}
    real_open, real_erase = Photo.open.__func__, eraser.erase

    def counting_open(cls, *args, **kwargs):
        calls["open"] += 1
        return real_open(cls, *args, **kwargs)

    def counting_erase(*args, **kwargs):
        calls["erase"] += 1
        return real_erase(*args, **kwargs)

    monkeypatch.setattr(Photo, "open", classmethod(counting_open))
    monkeypatch.setattr(eraser, "erase", counting_erase)
    upload(app, photo_jpeg)
    assert calls == {"open": 1, "erase": 0}
    background = canvas.calls[-1]["background_image"]
    for box in [(0.1, 0.1, 0.2, 0.2), (0.5, 0.5, 0.6, 0.6), (0.7, 0.2, 0.8, 0.3)]:
        canvas.paint(box)
        app.run()
    assert calls == {"open": 1, "erase": 0}
    assert canvas.calls[-1]["background_image"] == background

    button(app, "Erase").click()
    app.run()
    assert calls == {"open": 2, "erase": 1}  # the result is decoded once, for its preview
    canvas.paint((0.3, 0.6, 0.4, 0.7))
    app.run()
    assert calls == {"open": 2, "erase": 1}


def sent_bytes(jpeg):
    """The size of the data URL the canvas sends to the browser."""
    return len("data:image/jpeg;base64,") + 4 * -(-len(jpeg) // 3)


def test_a_12_megapixel_photo_gets_a_small_canvas_background(app, canvas, big_jpeg):
    upload(app, big_jpeg, "big.jpg")
    call = canvas.calls[-1]
    assert call["width"] <= DISPLAY_BOX[0] and call["height"] <= DISPLAY_BOX[1]
    assert sent_bytes(call["background_image"]) <= 400_000


def test_even_pure_noise_stays_under_the_payload_budget(app, canvas):
    noise = np.random.default_rng(0).random((DISPLAY_BOX[1], DISPLAY_BOX[0], 3)) * 255
    upload(app, encode(noise.astype(np.uint8), "PNG"), "noise.png", "image/png")
    assert sent_bytes(canvas.calls[-1]["background_image"]) <= 400_000
