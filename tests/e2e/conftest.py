"""One real Streamlit server and one Debian Chromium for the whole browser suite (CI has 2 cores).

Every test here is marked `browser` and `slow` (tests/conftest.py, by the `browser` fixture)."""

import os
import time

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
    with sync_playwright() as playwright:
        try:
            browser = launch_chromium(playwright)
        except RuntimeError as error:
            # CI installs Chromium, so there a missing browser is a failure; on a laptop without
            # it, the browser tier is skipped and says why.
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(str(error))
            pytest.skip(str(error))
        yield browser
        browser.close()


LAPTOP = {"viewport": {"width": 1366, "height": 768}}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}


def open_app(browser, app_url, **options):
    context = browser.new_context(accept_downloads=True, **options)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(app_url)
    page.get_by_test_id("stFileUploader").first.wait_for()
    return context, page


# What lies on top of a heading's text at its left, middle and right, along its top edge and its
# middle: the heading itself, or the test id (else the tag) of what covers it.
ON_TOP = """name => {
    const heading = [...document.querySelectorAll('h1')].find(h => h.textContent.trim() === name);
    if (!heading) return ['no heading ' + name];
    const box = (heading.querySelector('span') || heading).getBoundingClientRect();
    return [box.top + 1, box.top + box.height / 2].flatMap(y => [box.left + 4, box.left + box.width / 2, box.right - 4]
        .map(x => {
            if (x < 0 || x > innerWidth || y < 0 || y > innerHeight) return 'outside the window';
            const top = document.elementFromPoint(x, y);
            return heading.contains(top) ? 'heading' : top.closest('[data-testid]')?.dataset.testid || top.tagName;
        }));
}"""
IN_SIGHT = ["heading"] * 6


def seen_on_top(page, title, settled=IN_SIGHT.__eq__, seconds=15):
    """What a person sees where the page's title is (ON_TOP), once `settled(what)`: the
    sidebar slides in and out."""
    deadline = time.monotonic() + seconds
    while not settled(found := page.evaluate(ON_TOP, title)) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return found


@pytest.fixture
def page(browser, app_url):
    """A fresh session of the app in a 1366 x 768 laptop window."""
    context, page = open_app(browser, app_url, **LAPTOP)
    yield page
    context.close()


@pytest.fixture
def phone(browser, app_url):
    """A fresh session of the app on a 390 x 844 phone screen, with touch."""
    context, page = open_app(browser, app_url, **PHONE)
    yield page
    context.close()


@pytest.fixture
def screenshot_path(tmp_path):
    """docs/<name> when ERASER_SCREENSHOT=1 (to refresh the README), else a temp file."""
    refresh = os.environ.get("ERASER_SCREENSHOT") == "1"
    return lambda name: ROOT / "docs" / name if refresh else tmp_path / name
