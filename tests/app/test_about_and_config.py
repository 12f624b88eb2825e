"""The About page and the Streamlit settings that must agree with the library."""

import tomllib
from pathlib import Path

import pytest

from eraser.images import MAX_FILE_BYTES, MAX_PIXELS
from tests.app.test_erase_page import button, erase_box, upload

ROOT = Path(__file__).resolve().parents[2]


def about_text(app):
    app.switch_page("pages/about.py").run()
    assert not app.exception
    return " ".join(m.value for m in app.markdown)


@pytest.mark.slow
def test_about_tells_limits_backend_and_privacy(app):
    text = about_text(app)
    assert f"{MAX_FILE_BYTES // 2**20} MB" in text and f"{MAX_PIXELS / 1e6:.0f} megapixels" in text
    assert "Active: **Local**, engine **Automatic (recommended)**" in text
    assert "keeps your photos on the server running this app" in text
    assert "sends the photo and the mask to the provider" in text


def test_about_shows_the_backend_chosen_on_the_erase_page(app):
    app.sidebar.radio[0].set_value("Remote")
    app.run()
    assert "Active: **Remote**" in about_text(app)
    app.switch_page("pages/erase.py").run()
    assert app.sidebar.radio[0].value == "Remote"  # the choice survives the page change


def test_streamlit_settings_match_the_library():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    # A little above the library's cap (Streamlit's MB are MiB): a larger file is refused in words.
    assert MAX_FILE_BYTES < config["server"]["maxUploadSize"] * 2**20 <= MAX_FILE_BYTES + 16 * 2**20
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


@pytest.mark.slow
def test_about_lists_who_erased_each_step_of_the_photo(app, canvas, photo_jpeg):
    app.sidebar.radio[1].set_value("telea")
    app.run()
    upload(app, photo_jpeg)
    erase_box(app, canvas)
    erase_box(app, canvas, (0.1, 0.1, 0.2, 0.2))
    button(app, "Undo erase").click()
    app.run()
    text = about_text(app)
    assert "**street.jpg**, 240×160 px" in text
    assert "- Erase 1: Local, Telea" in text and "(shown now)\n- Erase 2: Local, Telea" in text
