"""Erasing ahead (ui/ahead.py): a stroke starts the fill, Erase takes it when it fits exactly what
is marked, and otherwise erases as before. Pixels, steps and messages are what they would be
without it."""

import numpy as np
import pytest

import eraser
from eraser import Photo
from eraser.errors import EngineError
from tests.app.test_erase_page import button, changed, edit, pixels, upload
from tests.app.test_erase_selection import choose
from tests.app.test_learned_engines import model_host  # noqa: F401 (a fixture)
from tests.support.photos import encode, scene


@pytest.fixture
def fills(monkeypatch):
    """The masks that reach the library's erase, one per fill, in order."""
    masks = []
    real = eraser.pipeline.erase

    def recording(photo, mask, **kwargs):
        masks.append(np.asarray(mask).copy())
        return real(photo, mask, **kwargs)

    monkeypatch.setattr(eraser.pipeline, "erase", recording)
    return masks


def made_ahead(app):
    return app.session_state["eraser_ahead"]


def paint(app, canvas, box):
    canvas.paint(box)
    return app.run()


@pytest.mark.slow
def test_erase_takes_the_fill_a_stroke_started_and_the_photo_is_the_same(app, canvas, fills):
    photo = encode(scene(640, 480), "PNG")
    choose(app, "patchmatch")
    upload(app, photo, "wall.png", "image/png")
    paint(app, canvas, (0.4, 0.4, 0.6, 0.6))
    ahead = made_ahead(app)
    ahead.future.result(timeout=60)
    assert len(fills) == 1 and not app.error  # filled before any click, and nothing said yet
    app.run()  # a run that draws the same marks again (as a toggle or a zoom makes)
    assert made_ahead(app) is ahead and len(fills) == 1

    button(app, "Erase").click()
    app.run()
    assert len(fills) == 1 and edit(app).erase_count == 1 and made_ahead(app) is None
    direct = eraser.erase(Photo.open(photo, "wall.png"), fills[0], engine="patchmatch")
    assert np.array_equal(pixels(edit(app).current.data), direct.pixels)  # what a click alone would make


@pytest.mark.slow
def test_a_stroke_after_the_fill_started_is_erased_too(app, canvas, photo_png, fills):
    choose(app, "telea")
    upload(app, photo_png, "wall.png", "image/png")
    paint(app, canvas, (0.1, 0.1, 0.3, 0.3))
    made_ahead(app).future.result(timeout=60)  # done, for the first stroke alone
    paint(app, canvas, (0.6, 0.6, 0.8, 0.8))
    button(app, "Erase").click()
    app.run()

    before, after = pixels(photo_png), pixels(edit(app).current.data)
    assert changed(before, after, (0.12, 0.12, 0.28, 0.28)) > 3 and changed(before, after, (0.62, 0.62, 0.78, 0.78)) > 3
    assert fills[-1][90:120, 120:160].all() and fills[-1][15:45, 20:60].all()  # the last fill had both strokes


@pytest.mark.slow
def test_a_failed_fill_made_ahead_is_said_at_the_click_and_loses_nothing(app, canvas, photo_jpeg, monkeypatch):
    tried = []

    def fail(*args, **kwargs):
        tried.append(1)
        raise EngineError("The telea engine failed on this photo (ValueError). Try another engine.")

    monkeypatch.setattr(eraser.pipeline, "erase", fail)
    upload(app, photo_jpeg)
    paint(app, canvas, (0.4, 0.4, 0.6, 0.6))
    with pytest.raises(EngineError):
        made_ahead(app).future.result(timeout=60)
    assert tried and not app.error  # nobody asked yet

    button(app, "Erase").click()
    app.run()
    assert [e.value for e in app.error] == ["The telea engine failed on this photo (ValueError). Try another engine."]
    assert not app.exception and not edit(app).erased and edit(app).current.data == photo_jpeg
    assert not button(app, "Erase").disabled  # the drawing is still there, to erase again


@pytest.mark.slow
def test_clear_mask_and_undo_forget_the_fill_made_ahead(app, canvas, photo_jpeg, fills):
    upload(app, photo_jpeg)
    paint(app, canvas, (0.4, 0.4, 0.6, 0.6))
    assert made_ahead(app) is not None
    button(app, "Clear mask").click()
    app.run()
    assert made_ahead(app) is None and button(app, "Erase").disabled

    paint(app, canvas, (0.1, 0.1, 0.2, 0.2))
    button(app, "Erase").click()
    app.run()
    paint(app, canvas, (0.7, 0.7, 0.8, 0.8))
    assert made_ahead(app) is not None and made_ahead(app).step == edit(app).current.key
    button(app, "Undo erase").click()
    app.run()
    assert made_ahead(app) is None and not edit(app).erased


@pytest.mark.slow
def test_an_engine_that_must_first_download_its_model_waits_for_the_click(app, canvas, photo_jpeg, model_host):  # noqa: F811
    upload(app, photo_jpeg)  # Automatic: MI-GAN for objects, from the model host
    paint(app, canvas, (0.4, 0.4, 0.6, 0.6))
    assert made_ahead(app) is None and not model_host.exists()  # no download behind the person's back

    button(app, "Erase").click()
    app.run()
    assert model_host.is_file() and edit(app).current.engine == "Local, MI-GAN"
    paint(app, canvas, (0.1, 0.1, 0.3, 0.3))
    assert made_ahead(app) is not None  # the model is here now: the next stroke fills ahead


@pytest.mark.slow
def test_remote_never_fills_ahead(app, canvas, photo_jpeg, fills):
    app.sidebar.radio[0].set_value("Remote")
    app.run()
    app.text_input(key="eraser_remote_key_input").input("a-key")
    app.run()
    upload(app, photo_jpeg)
    paint(app, canvas, (0.4, 0.4, 0.6, 0.6))
    assert not button(app, "Erase").disabled
    assert made_ahead(app) is None and fills == []  # a call to the service costs its owner
