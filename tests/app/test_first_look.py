"""An uploaded JPEG larger than the canvas is shown from its first look (decoded at about the
canvas's scale), and decoded whole in the next run, once its canvas is in the browser. Should the
whole decode fail where the first look did not, the work from before the upload comes back."""

import base64

import cv2
import numpy as np
import pytest

from eraser import ImageError, Photo
from tests.app.test_erase_page import button, changed, compare_data, download, edit, erase_box, pixels, upload
from tests.support.photos import encode, scene

BIG = scene(1600, 1200, seed=4)
OUT_OF_TIME = "The photo took more than 15 s to decode, so it was stopped. Save it again and try again."


@pytest.fixture(scope="module")
def big() -> bytes:
    return encode(BIG, "JPEG", quality=90)


@pytest.fixture
def whole_decodes(monkeypatch):
    """The photos Photo.open decoded, by their size in bytes."""
    opened, real = [], Photo.open.__func__

    def counting(cls, data, name=None):
        opened.append(len(data))
        return real(cls, data, name)

    monkeypatch.setattr(Photo, "open", classmethod(counting))
    return opened


def refuse_whole(monkeypatch, refused: bytes) -> None:
    """Photo.open runs out of time on `refused` (its first look still works)."""
    real = Photo.open.__func__

    def timing_out(cls, data, name=None):
        if bytes(data) == refused:
            raise ImageError(OUT_OF_TIME)
        return real(cls, data, name)

    monkeypatch.setattr(Photo, "open", classmethod(timing_out))


def test_a_large_jpeg_shows_its_first_look_then_is_erased_and_downloaded_whole(app, canvas, big, whole_decodes):
    upload(app, big)
    assert not app.exception and edit(app).size == (1600, 1200)
    shown = pixels(canvas.calls[-1]["background_image"])
    height, width = shown.shape[:2]
    assert (width, height) == (480, 360)
    expected = cv2.resize(BIG, (width, height), interpolation=cv2.INTER_AREA).astype(int)
    # The photo itself, as a person sees it: 4.7 levels off on average, where the canvas made
    # from the whole photo is 4.2 off (its JPEG's own loss), and another picture dozens.
    assert np.abs(shown - expected).mean() < 6
    assert whole_decodes == []  # not yet: the browser is drawing the page
    app.run()  # the run the canvas asks for once it is in the browser
    assert whole_decodes == [len(big)]

    erase_box(app, canvas)
    assert edit(app).erase_count == 1 and whole_decodes == [len(big)]  # not decoded again
    downloaded = download(app)
    assert downloaded.proto.label == "Download" and not downloaded.disabled
    assert pixels(edit(app).current.data).shape == (1200, 1600, 3)  # full resolution


def test_a_photo_that_cannot_be_decoded_whole_brings_back_the_work_it_replaced(app, canvas, photo_jpeg, big,
                                                                             monkeypatch):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    erased, token = edit(app).current.data, app.query_params["work"]
    canvas.paint((0.1, 0.1, 0.3, 0.3))
    app.run()
    refuse_whole(monkeypatch, big)
    upload(app, big, "huge.jpg")
    assert not app.error and edit(app).name == "huge.jpg"  # its first look
    app.run()

    assert not app.exception
    assert [e.value for e in app.error] == [OUT_OF_TIME]
    assert "Still editing **street.jpg**: its steps and drawing are kept." in [i.value for i in app.info]
    assert edit(app).name == "street.jpg" and edit(app).current.data == erased
    assert not button(app, "Undo erase").disabled and not button(app, "Erase").disabled  # steps and drawing
    assert app.query_params["work"] == token  # a reload brings back this work, not the refused photo
    assert pixels(canvas.calls[-1]["background_image"]).shape[:2] == (360, 540)  # street.jpg (3:2) again


def test_a_first_photo_that_cannot_be_decoded_whole_is_refused_in_words(app, canvas, big, monkeypatch):
    refuse_whole(monkeypatch, big)
    upload(app, big, "huge.jpg")
    app.run()
    assert not app.exception and [e.value for e in app.error] == [OUT_OF_TIME]
    assert app.session_state["eraser_edit"] is None and "work" not in app.query_params
    assert not [b for b in app.button if b.label == "Erase"]
    assert [m for m in app.markdown if "Remove unwanted objects" in m.value]


def test_two_uploads_before_either_is_decoded_whole_come_back_to_the_last_photo_opened_whole(
        app, canvas, photo_jpeg, big, monkeypatch):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    erased = edit(app).current.data
    other = encode(scene(1600, 1200, seed=5), "JPEG", quality=90)
    refuse_whole(monkeypatch, other)
    upload(app, big, "first.jpg")  # its first look only: the browser has not asked for a run yet
    upload(app, other, "second.jpg")
    app.run()
    assert [e.value for e in app.error] == [OUT_OF_TIME]
    assert edit(app).name == "street.jpg" and edit(app).current.data == erased


def compared(app) -> tuple[np.ndarray, np.ndarray]:
    """The two pictures Compare slides between: the original and the erased photo."""
    app.toggle(key="eraser_compare_input").set_value(True)
    app.run()
    data = compare_data(app)
    return tuple(pixels(base64.b64decode(data[which].split(",", 1)[1])) for which in ("was", "now"))


def test_compare_on_a_large_jpeg_changes_only_what_was_erased(app, canvas, big):
    upload(app, big)
    first_look = pixels(canvas.calls[-1]["background_image"])
    app.run()  # the run the canvas asks for: the whole photo decoded
    erase_box(app, canvas, (0.4, 0.4, 0.6, 0.6))
    was, now = compared(app)
    assert changed(was, now, (0.4, 0.4, 0.6, 0.6)) > 5  # the erase shows
    away = np.ones(was.shape[:2], bool)
    away[round(0.3 * 360):round(0.7 * 360), round(0.3 * 480):round(0.7 * 480)] = False
    # Away from the erase, sliding changes nothing: both are pictures of the whole photo. The
    # first look the canvas showed after the upload is a (slightly) different picture.
    assert np.array_equal(was[away], now[away])
    assert not np.array_equal(first_look[away], now[away])
