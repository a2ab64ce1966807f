"""Chromium: log in and watch the dashboard figures move over the websocket."""

import pytest

from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]


def test_it_logs_in_and_sees_the_figures_change(page, live_stack, member_user, transactional_db):
    browser_login(page, live_stack, member_user.username)
    assert page.url == f"{live_stack.url}/"
    stats = page.locator("#system-stats")
    first = stats.get_attribute("data-sample-time")
    # The sampler publishes every second; the websocket swaps the fragment in place.
    page.wait_for_function(
        "t => document.querySelector('#system-stats').dataset.sampleTime !== t", arg=first, timeout=15_000
    )
    page.wait_for_function("() => document.querySelector('#live-state').classList.contains('is-live')")
    assert page.locator("[data-figure=cpu]").inner_text().endswith("%")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-light.png"), full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(ARTIFACTS / "dashboard-dark.png"), full_page=True)


def test_it_falls_back_to_polling_when_the_socket_is_refused(page, live_stack, member_user, transactional_db):
    # Block the websocket route: the page must keep refreshing over HTTP.
    browser_login(page, live_stack, member_user.username)
    page.route("**/ws/system/", lambda route: route.abort())
    page.context.add_init_script("window.WebSocket = function () { throw new Error('blocked'); };")
    page.goto(f"{live_stack.url}/")
    first = page.locator("#system-stats").get_attribute("data-sample-time")
    page.wait_for_function(
        "t => document.querySelector('#system-stats').dataset.sampleTime !== t", arg=first, timeout=15_000
    )
    assert page.locator("#live-state").inner_text() == "polling"


def test_a_wrong_password_shows_an_error(page, live_stack, member_user, transactional_db):
    browser_login(page, live_stack, member_user.username, "wrong password")
    assert "/login/" in page.url
    assert page.locator("[role=alert]").is_visible()
