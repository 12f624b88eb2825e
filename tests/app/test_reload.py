"""Work survives a browser reload: the token in the URL brings the photo, its steps and the
drawing back in a new session; without the token (or with another) a new session has nothing."""

from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from tests.app.test_erase_page import button, edit, erase_box, upload


def reloaded(token: str | None) -> AppTest:
    """A new session of the same server, as a reload makes, with this token in its URL."""
    again = AppTest.from_file(str(APP), default_timeout=30)
    if token is not None:
        again.query_params["work"] = token
    return again.run()


def test_a_reload_with_the_token_brings_the_work_back(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    token = app.query_params["work"][0] if isinstance(app.query_params["work"], list) else app.query_params["work"]
    assert len(token) >= 20
    erase_box(app, canvas)
    erased = edit(app).current.data
    canvas.paint((0.1, 0.1, 0.2, 0.2))
    app.run()

    again = reloaded(token)
    assert edit(again) is not None and edit(again).current.data == erased
    assert edit(again).erase_count == 1 and not button(again, "Undo erase").disabled
    assert not button(again, "Erase").disabled  # the drawing came back too
    assert not again.exception


def test_without_the_token_a_new_session_gets_nothing(app, canvas, photo_jpeg):
    upload(app, photo_jpeg)
    for token in (None, "not-the-token"):
        other = reloaded(token)
        assert other.session_state["eraser_edit"] is None
        assert not [b for b in other.button if b.label == "Erase"]


def test_a_new_photo_gets_a_new_token(app, canvas, photo_jpeg, photo_png):
    upload(app, photo_jpeg)
    first = app.query_params["work"]
    upload(app, photo_png, "other.png", "image/png")
    assert app.query_params["work"] != first
