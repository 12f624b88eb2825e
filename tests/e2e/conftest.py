"""One real Streamlit server and one Debian Chromium for the whole browser suite (CI has 2 cores)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.server import ROOT, launch_chromium, running_app


# Reruns are slower on a busy 2-core CI machine than Playwright's 5 s default allows for.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    try:
        with running_app(tmp_path_factory.mktemp("streamlit") / "server.log") as (url, _):
            yield url
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def browser():
    # Never skip: a missing browser fails the run, in CI and on a laptop alike.
    with sync_playwright() as playwright:
        try:
            browser = launch_chromium(playwright)
        except RuntimeError as error:
            pytest.fail(str(error))
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh session of the app, tall enough to show canvas and result together."""
    context = browser.new_context(viewport={"width": 1280, "height": 1560}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(app_url)
    page.get_by_test_id("stFileUploader").first.wait_for()
    yield page
    context.close()


@pytest.fixture
def screenshot_path(tmp_path) -> Path:
    """docs/screenshot.png when ERASER_SCREENSHOT=1 (to refresh the README), else a temp file."""
    return ROOT / "docs" / "screenshot.png" if os.environ.get("ERASER_SCREENSHOT") == "1" else tmp_path / "shot.png"
