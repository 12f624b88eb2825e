"""Choosing a page in the sidebar, in a real browser: on a phone the sidebar closes, so the person
sees the page they chose; on a laptop it stays beside the page."""

import pytest

from tests.e2e.conftest import IN_SIGHT, LAPTOP, PHONE, open_app, seen_on_top

# Streamlit closes the sidebar itself when the browser's user agent says "phone"; the phone
# context of conftest keeps desktop Chromium's, as a narrow window or a tablet would.
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
WINDOWS = {
    "narrow window": PHONE,
    "phone": {**PHONE, "user_agent": PHONE_AGENT},
    "laptop": LAPTOP,
}

SIDEBAR_GONE = "() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right <= 0"


def sidebar_in_window(page):
    return not page.evaluate(SIDEBAR_GONE)


def choose(page, name):
    if not sidebar_in_window(page):
        page.get_by_test_id("stExpandSidebarButton").click()
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name=name).click()


@pytest.mark.parametrize("window", list(WINDOWS))
def test_after_choosing_a_page_its_title_is_in_sight(window, browser, app_url):
    context, page = open_app(browser, app_url, **WINDOWS[window])
    try:
        if window != "laptop":
            page.get_by_test_id("stExpandSidebarButton").click()
            # The open sidebar lies over the page: without closing, the title stays covered.
            covered = seen_on_top(page, "Eraser", lambda seen: "heading" not in seen, seconds=5)
            assert covered[0].startswith("stSidebar"), covered
        for name, title in (("About", "About Eraser"), ("Erase", "Eraser")):
            choose(page, name)
            page.get_by_role("heading", name=title, exact=True).wait_for()
            if window == "laptop":
                assert sidebar_in_window(page)  # beside the page, it stays
            else:
                page.wait_for_function(SIDEBAR_GONE, timeout=15_000)
            assert seen_on_top(page, title) == IN_SIGHT, name
    finally:
        context.close()
