"""Once the Erase page has taken an uploaded photo, Streamlit's upload manager no longer holds its
bytes (only the step store does, which can move an idle session's upload to disk), and the editor
works on with the uploader's value gone, as in a real server."""

import pytest
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

from tests.app.test_erase_page import button, compare_on_and_off, edit, erase_box, library_message, upload


@pytest.fixture
def uploads(monkeypatch):
    """Streamlit's upload managers, as a server's: AppTest registers a widget's file again before
    every run, while a browser uploads it once, so a file the page removed stays removed.
    Returns what each manager holds after the last run, and the removed file ids."""
    managers, removed = [], []
    add, remove = MemoryUploadedFileManager.add_file, MemoryUploadedFileManager.remove_file

    def add_once(self, session_id, file):
        if self not in managers:
            managers.append(self)
        if file.file_id not in removed:
            add(self, session_id, file)

    def remove_and_note(self, session_id, file_id):
        removed.append(file_id)
        remove(self, session_id, file_id)

    monkeypatch.setattr(MemoryUploadedFileManager, "add_file", add_once)
    monkeypatch.setattr(MemoryUploadedFileManager, "remove_file", remove_and_note)

    def held() -> list[str]:
        return [file_id for manager in managers for files in manager.file_storage.values() for file_id in files]

    return held, removed


def test_a_taken_photo_leaves_streamlit_and_the_editor_works_on(app, canvas, uploads, photo_jpeg, photo_png):
    held, removed = uploads
    upload(app, photo_jpeg)
    file_id = app.session_state["eraser_upload_id"]
    assert removed == [file_id] and held() == []

    erase_box(app, canvas)  # runs with the uploader's file gone: still the same photo
    assert not app.exception and not app.error
    assert edit(app).name == "street.jpg" and edit(app).erase_count == 1
    assert edit(app).original.data == photo_jpeg  # the store's copy, for Compare and Undo
    compare_on_and_off(app)
    button(app, "Undo erase").click()
    app.run()
    assert edit(app).current.data == photo_jpeg and edit(app).erase_count == 0

    upload(app, photo_png, "plan.png", "image/png")  # a new photo is still taken, and let go
    assert edit(app).name == "plan.png" and edit(app).current.data == photo_png
    assert len(removed) == 2 and held() == []


def test_a_refused_upload_is_let_go_too(app, canvas, uploads, photo_jpeg):
    held, removed = uploads
    upload(app, photo_jpeg)
    upload(app, b"not a photo", "notes.jpg")
    assert [e.value for e in app.error] == [library_message(b"not a photo")]
    assert len(removed) == 2 and held() == []
    assert edit(app).name == "street.jpg"
