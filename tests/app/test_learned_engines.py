"""The engine choice in a person's words, and the learned engines on the page: fetched once from
a model host (a local HTTP server here), used, and replaced by PatchMatch when they cannot be."""

import dataclasses

import pytest

from eraser import models
from eraser.backends import weaker
from eraser.engines import learned
from tests.app.test_erase_page import edit, erase_box, upload
from tests.support.model_host import hosted_migan


@pytest.fixture
def model_host(tmp_path, monkeypatch):
    with hosted_migan(monkeypatch, tmp_path / "host", tmp_path / "cache"):
        yield tmp_path / "cache" / "migan_pipeline_v2.onnx"


def test_the_engines_are_offered_in_words(app):
    box = app.sidebar.radio[1]
    assert box.options == ["Automatic (recommended)", "Fast (downloads 28 MB once)",
                           "Best quality (downloads 208 MB once, slower)", "Classic (no download)",
                           "Thin lines only (instant)"]
    assert box.value == "auto"


@pytest.mark.slow
def test_the_first_erase_fetches_the_model_and_about_says_it_filled_the_photo(app, canvas, photo_jpeg, model_host):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    assert not app.error
    assert model_host.is_file()  # fetched into the cache, once
    assert edit(app).current.engine == "Local, MI-GAN" and edit(app).current.note == ""
    app.switch_page("pages/about.py").run()
    assert "- Erase 1: Local, MI-GAN" in "\n".join(m.value for m in app.markdown)


@pytest.mark.slow
def test_a_model_that_cannot_be_fetched_is_replaced_by_patchmatch_with_a_message(app, canvas, photo_jpeg, monkeypatch):
    monkeypatch.delenv("ERASER_OFFLINE")
    monkeypatch.setitem(models.MODELS, "migan", dataclasses.replace(models.MODELS["migan"], url="http://127.0.0.1:9/m.onnx"))
    learned.forget()
    app.sidebar.radio[1].set_value("migan")
    app.run()
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    step = edit(app).current
    assert edit(app).erased and step.engine == "Local, PatchMatch"
    assert step.note == weaker("MI-GAN")  # plain words: no file name, no exception name
    assert [i.value for i in app.info] == [weaker("MI-GAN")]  # a visible note, not a caption
    assert not any(weaker("MI-GAN") in c.value for c in app.caption)
    box = app.sidebar.radio[1]
    assert box.options[1] == "Fast (downloads 28 MB once) — unavailable here"
    assert app.session_state["eraser_engine"] == "migan"
    erase_box(app, canvas, (0.1, 0.1, 0.2, 0.2))
    assert edit(app).erase_count == 2 and not app.info  # said once
    assert app.sidebar.radio[1].options[1].endswith("unavailable here")  # until it works
    learned.forget()


@pytest.mark.slow
def test_automatic_without_its_model_says_so_in_plain_words(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    assert edit(app).current.note == weaker("MI-GAN")


def test_thin_lines_only_warns_when_what_is_painted_is_not_thin(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    app.sidebar.radio[1].set_value("telea")
    app.run()
    canvas.paint((0.1, 0.45, 0.9, 0.46))  # a line about 1 % of the photo's height: thin
    app.run()
    assert not app.warning
    canvas.paint((0.3, 0.3, 0.7, 0.7))  # an object
    app.run()
    assert [w.value for w in app.warning] == [
        "Thin lines only is for scratches and wires: what is painted is wider and would be smeared. "
        "Choose Automatic in the sidebar to erase objects."
    ]
