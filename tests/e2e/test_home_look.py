"""Chromium: how the home page looks and lives. Widgets live over the socket and turned off for good; the empty
home leading to the app store; screenshots at desktop and phone width, light and dark (tiles: test_home.py)."""

import pytest

from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_widgets_are_live_and_turned_off_for_good(page, live_stack, member_user, transactional_db):
    browser_login(page, live_stack, member_user.username)
    page.goto(f"{live_stack.url}/")
    first = page.locator("#system-stats").get_attribute("data-sample-time")
    page.wait_for_function(
        "t => document.querySelector('#system-stats').dataset.sampleTime !== t", arg=first, timeout=15_000
    )
    assert page.locator("[data-widget=uptime]").is_visible()
    assert page.locator("[data-widget=network] code", has_text="lo").count() == 0  # loopback left out
    page.click("#widget-menu summary")
    with page.expect_response("**/home/widgets/"):
        page.uncheck("input[data-widget-toggle][value=uptime]")
    assert not page.locator("[data-widget=uptime]").is_visible()
    page.reload()
    assert not page.locator("[data-widget=uptime]").is_visible()
    assert page.locator("[data-widget=cpu]").is_visible()


def test_an_empty_home_leads_to_the_app_store(page, live_stack, admin_user, transactional_db):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/")
    page.click("#empty-appstore")
    page.wait_for_url("**/appstore/")


@pytest.mark.parametrize(
    ("width", "scheme", "name"),
    [
        (1440, "light", "home-desktop-light"),
        (1440, "dark", "home-desktop-dark"),
        (390, "light", "home-phone"),
        (390, "dark", "home-phone-dark"),
    ],
)
def test_the_home_page_at_desktop_and_phone_width(browser, live_stack, admin_user, store_apps, width, scheme, name):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        browser_login(page, live_stack, admin_user.username)
        page.goto(f"{live_stack.url}/")
        page.wait_for_function("() => document.querySelector('[data-live-state]').classList.contains('is-live')")
        page.wait_for_function("() => [...document.querySelectorAll('.tile-icon')].every(i => !i.src || i.complete)")
        no_sideways_scroll(page)
        shot(page, name)
        page.fill("#home-search", "a")
        page.wait_for_selector("#search-results [role=option]")
        no_sideways_scroll(page)
        shot(page, f"{name}-search")
    finally:
        context.close()


def test_the_empty_home_at_desktop_and_phone_width(browser, live_stack, admin_user, transactional_db):
    for width in (1440, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            browser_login(page, live_stack, admin_user.username)
            page.goto(f"{live_stack.url}/")
            no_sideways_scroll(page)
            shot(page, f"home-empty-{width}")
        finally:
            context.close()
