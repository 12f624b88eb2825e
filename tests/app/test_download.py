"""Download on the Erase page. An erase's full-size file is made after the erased photo is on its
way to the canvas, not before: what Download then gives must be what an eager save of the same
erase gives, and the file of the step on screen, after Undo and Redo too."""

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from eraser import Photo
from eraser.backends import Local
from eraser.errors import ImageError
from tests.app.test_erase_page import button, download, edit, erase_box, pixels, upload


@pytest.fixture
def served(monkeypatch):
    """What a click on Download gives: the file Streamlit serves at the button's URL.
    (file bytes, file name, MIME type)"""
    files = {}
    load = MemoryMediaFileStorage.load_and_get_id

    def keep(self, data, mimetype, kind, filename=None):
        file_id = load(self, data, mimetype, kind, filename)
        files[file_id] = (data, filename, mimetype)
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)

    def click(app):
        button = download(app)
        assert not button.disabled
        return files[button.proto.url.rsplit("/", 1)[-1].split(".")[0]]

    return click


@pytest.fixture
def results(monkeypatch):
    """The erased photos the page's erases returned, in order."""
    kept = []
    erase = Local.erase

    def keep(self, *args, **kwargs):
        result = erase(self, *args, **kwargs)
        kept.append(result.photo)
        return result

    monkeypatch.setattr(Local, "erase", keep)
    return kept


@pytest.mark.slow
@pytest.mark.parametrize(("name", "mime"), [("street.jpg", "image/jpeg"), ("plan.png", "image/png")])
def test_a_download_made_after_the_canvas_is_the_file_an_eager_save_makes(app, canvas, served, results, photo_jpeg,
                                                                  photo_png, name, mime):
    data = photo_jpeg if name.endswith(".jpg") else photo_png
    upload(app, data, name, mime)
    erase_box(app, canvas)
    assert not app.error and not app.exception

    got, file_name, kind = served(app)
    (erased,) = results
    assert got == erased.encode()  # the same erased photo, saved at once
    assert (file_name, kind) == (name.replace(".", "_erased."), mime)
    assert got == edit(app).current.data
    assert Image.open(io.BytesIO(got)).size == Image.open(io.BytesIO(data)).size  # full resolution
    # Far from the mark, every pixel is the upload's (for the JPEG: its blocks were kept).
    assert np.array_equal(pixels(got)[:40], pixels(data)[:40])


@pytest.mark.slow
def test_a_download_after_undo_and_redo_is_the_step_on_screen(app, canvas, served, photo_jpeg):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    first, _, _ = served(app)
    erase_box(app, canvas, (0.1, 0.1, 0.2, 0.2))
    second, _, _ = served(app)
    assert first != second and first != photo_jpeg

    button(app, "Undo erase").click()
    app.run()
    assert served(app)[0] == first
    button(app, "Redo erase").click()
    app.run()
    assert served(app)[0] == second
    button(app, "Undo erase").click()
    app.run()
    button(app, "Undo erase").click()
    app.run()
    assert download(app).disabled  # the upload itself: nothing to download
    button(app, "Redo erase").click()
    app.run()
    assert served(app)[0] == first


@pytest.mark.slow
def test_a_file_that_cannot_be_made_takes_the_erase_back_and_keeps_the_marks(app, canvas, photo_jpeg, monkeypatch):
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    first = edit(app).current.data

    def refuse(self, format=None):
        raise ImageError("The photo could not be saved as JPEG. Save it as PNG instead.")

    monkeypatch.setattr(Photo, "encode", refuse)
    erase_box(app, canvas, (0.1, 0.1, 0.2, 0.2))
    assert [e.value for e in app.error] == ["The photo could not be saved as JPEG. Save it as PNG instead."]
    assert edit(app).current.data == first and edit(app).erase_count == 1  # the step before is back
    assert not button(app, "Erase").disabled  # the marks of the failed erase are still there
    assert not app.exception

    monkeypatch.undo()
    button(app, "Erase").click()
    app.run()
    assert not app.error and edit(app).erase_count == 2
    after = pixels(edit(app).current.data)
    assert np.abs(after[24:40, 32:48] - pixels(first)[24:40, 32:48]).mean() > 3  # erased where marked
