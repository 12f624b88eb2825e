"""The Remote backend on the page, against the project's own server on 127.0.0.1."""

import numpy as np
import pytest
from streamlit.proto.TextInput_pb2 import TextInput as TextInputProto

from tests.app.test_erase_page import button, edit, erase_box, pixels, upload
from tests.support.remote import KEY, make_app, serving


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    with serving(make_app(tmp_path_factory.mktemp("server"))) as url:
        yield url


@pytest.fixture(autouse=True)
def no_deployment_settings(monkeypatch):
    monkeypatch.delenv("AILAB_API_KEY", raising=False)
    monkeypatch.delenv("AILAB_API_URL", raising=False)


def choose_remote(app, url=None, key=None):
    app.sidebar.radio[0].set_value("Remote")
    app.run()
    if url is not None:
        app.text_input(key="eraser_remote_url_input").input(url)
    if key is not None:
        app.text_input(key="eraser_remote_key_input").input(key)
    return app.run()


def shown_text(app) -> str:
    """Every text the page shows; the key field itself only shows dots (type password)."""
    texts = [e.value for e in (*app.markdown, *app.caption, *app.error, *app.warning, *app.info, *app.success)]
    texts += [e.label for e in app.text_input] + [app.text_input(key="eraser_remote_url_input").value]
    return " ".join(map(str, texts))


@pytest.mark.slow
def test_remote_erases_through_the_server_and_never_shows_the_key(app, canvas, photo_jpeg, origin, monkeypatch):
    monkeypatch.setenv("AILAB_API_URL", origin)  # a typed URL reaches this machine only when it is the deployment's
    choose_remote(app, origin, KEY)
    assert not app.sidebar.warning  # a key is set
    upload(app, photo_jpeg)
    erase_box(app, canvas)

    assert not app.error and not app.exception
    before, after = pixels(photo_jpeg), pixels(edit(app).current.data)
    assert after.shape == before.shape
    assert np.abs(after[70:90, 105:135] - before[70:90, 105:135]).mean() > 3  # under the mark
    assert np.abs(after[:20, :40] - before[:20, :40]).mean() < 3  # far from it (JPEG re-encode)
    assert edit(app).current.engine == "Remote service"
    assert KEY not in shown_text(app)
    assert app.text_input(key="eraser_remote_key_input").proto.type == TextInputProto.PASSWORD


@pytest.mark.slow
def test_a_wrong_key_shows_what_to_do_keeps_the_photo_and_suggests_local(app, canvas, photo_jpeg, origin, monkeypatch):
    monkeypatch.setenv("AILAB_API_URL", origin)  # a typed URL reaches this machine only when it is the deployment's
    choose_remote(app, origin, "not-the-key")
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    assert [e.value for e in app.error] == [
        "The API key was not accepted: check the key (AILAB_API_KEY) and enter it again."
    ]
    assert "Local erases it on this server instead" in " ".join(c.value for c in app.caption)
    assert not edit(app).erased and not button(app, "Erase").disabled

    button(app, "Switch to Local").click()
    app.run()
    assert app.sidebar.radio[0].value == "Local" and not app.error
    button(app, "Erase").click()  # the same drawing, now erased here
    app.run()
    assert edit(app).erased and edit(app).current.engine == "Local, PatchMatch"


def test_without_a_key_erase_is_off_and_the_page_says_why_in_words(app, canvas, photo_jpeg, origin):
    choose_remote(app, origin)
    assert app.sidebar.warning[0].value == "An API key is needed for this service: enter one above."
    upload(app, photo_jpeg)
    canvas.paint()
    app.run()
    assert button(app, "Erase").disabled
    assert app.info[0].value == "This service needs an API key: enter yours under Service in the sidebar."
    assert "AILAB" not in shown_text(app)


def test_without_any_key_the_deployment_is_mentioned_not_its_variables(app, canvas, photo_jpeg):
    choose_remote(app)
    assert "ask whoever runs this app to set one up" in app.sidebar.warning[0].value
    upload(app, photo_jpeg)
    assert "or choose Local" in app.info[0].value
    assert "AILAB" not in shown_text(app)


@pytest.mark.slow
def test_key_and_url_come_from_the_deployment_settings(app, canvas, photo_jpeg, origin, monkeypatch):
    monkeypatch.setenv("AILAB_API_KEY", KEY)
    monkeypatch.setenv("AILAB_API_URL", origin)
    choose_remote(app)
    assert not app.sidebar.warning
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    assert not app.error and edit(app).erased


def test_the_deployment_key_never_goes_to_a_url_typed_in_the_page(app, canvas, photo_jpeg, origin, monkeypatch):
    # The server would accept this key: an erase that works would mean the key was sent there.
    monkeypatch.setenv("AILAB_API_KEY", KEY)
    choose_remote(app, origin)
    assert app.sidebar.warning[0].value == "An API key is needed for this service: enter one above."
    upload(app, photo_jpeg)
    canvas.paint()
    app.run()
    assert button(app, "Erase").disabled and not edit(app).erased


@pytest.mark.slow
def test_a_typed_url_into_this_machine_is_refused(app, canvas, photo_jpeg, origin):
    choose_remote(app, origin, KEY)  # the server would accept the key: only the URL rules stop it
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    assert app.error[0].value.startswith("This service address is on this machine or in a private network")
    assert not edit(app).erased


@pytest.mark.slow
def test_the_session_key_survives_switching_backends(app, origin):
    choose_remote(app, origin, KEY)
    app.sidebar.radio[0].set_value("Local")
    app.run()
    choose_remote(app)
    assert app.text_input(key="eraser_remote_key_input").value == KEY
    assert app.text_input(key="eraser_remote_url_input").value == origin
