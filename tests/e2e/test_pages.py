"""Chromium: every top-level page loads for a logged-in admin without a console error (CSP violations,
missing assets and script errors all show up there)."""

import pytest

from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]

PAGES = ["/", "/system/status/", "/appstore/", "/apps/", "/files/", "/storage/", "/settings/", "/api/", "/api/docs/"]


NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED"


def _visit(page, url: str, errors: list[str]) -> None:
    """Load a page, and again (up to 3 times) when Chromium aborted its requests because the host's interfaces
    changed meanwhile (tests in other processes make engine networks and namespaces): the machine's event, not a
    fault of the page. Any other error, or that one three times running, stays in `errors`."""
    for attempt in range(3):
        start = len(errors)
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        if attempt == 2 or not any(NETWORK_CHANGED in error for error in errors[start:]):
            return
        del errors[start:]


def test_every_page_loads_cleanly(page, live_stack, admin_user, transactional_db):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    browser_login(page, live_stack, admin_user.username)
    ARTIFACTS.mkdir(exist_ok=True)
    for path in PAGES:
        _visit(page, f"{live_stack.url}{path}", errors)
        name = path.strip("/").replace("/", "-") or "home"
        page.screenshot(path=str(ARTIFACTS / f"page-{name}.png"), full_page=True)
    assert errors == []


def test_the_status_page_shows_every_component(page, live_stack, admin_user, transactional_db):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/system/status/")
    for name in ("database", "redis", "engine", "worker"):
        assert page.locator(f"[data-check={name}] .ok").is_visible(), name
    assert "Container engine: Docker" in page.content()


def test_the_layout_fits_a_phone(browser, live_stack, member_user, transactional_db):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        browser_login(phone, live_stack, member_user.username)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "no horizontal scrolling on a phone"
        phone.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    finally:
        context.close()
