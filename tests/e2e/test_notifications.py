"""Chromium: the bell. An event arrives over the page's socket, the count and the list follow without a reload,
and marking it read clears the count; the pages are photographed at desktop and phone widths in both themes."""

import threading

import pytest

from notifications.models import Channel, Notification
from notifications.services import notify
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]


def notify_apart(**event) -> None:
    """notify() from another thread: Playwright's event loop runs in this one, and publishing needs its own."""
    worker = threading.Thread(target=lambda: notify(**event))
    worker.start()
    worker.join()


def open_bell(page) -> None:
    page.locator(".notify-button").click()
    page.wait_for_selector(".notify-panel", state="visible")


def test_an_event_arrives_live_and_is_marked_read(page, live_stack, admin_user, transactional_db):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/")
    page.wait_for_selector(".notify-nav > li[data-socket=open]", state="attached")
    assert page.locator("#notify-count").is_hidden()

    notify_apart(kind="apps.stopped", params={"app": "nextcloud"}, subject="nextcloud", link="/notifications/")
    page.wait_for_selector('#notify-count[data-unread="1"]')  # no reload: it came over /ws/notifications/
    assert page.locator("#notify-count").inner_text().startswith("1")
    open_bell(page)
    assert "nextcloud stopped unexpectedly." in page.locator("#notify-list").inner_text()

    page.locator("#notify-list .notify-mark").first.click()
    page.wait_for_selector('#notify-count[data-unread="0"]', state="attached")
    assert page.locator("#notify-count").is_hidden()
    assert Notification.objects.get().read_at is not None


def test_opening_a_notification_goes_to_its_page(page, live_stack, admin_user, transactional_db):
    notify_apart(kind="storage.space.low", params={"name": "Media", "percent": 93}, subject="m", link="/notifications/")
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/")
    open_bell(page)
    page.locator("#notify-list .notify-open").first.click()
    page.wait_for_url("**/notifications/")
    assert Notification.objects.get().read_at is not None


def _some(admin):
    notify_apart(kind="storage.health.worse", params={"disk": "WDC WD40 (sda)", "reasons": "reallocated sectors 0 → 8"})
    notify_apart(kind="apps.stopped", params={"app": "jellyfin"}, subject="jellyfin", link="/apps/")
    notify_apart(kind="apps.update_available", params={"app": "nextcloud"}, subject="nextcloud")
    notify_apart(kind="accounts.token_created", params={"user": "admin", "token": "backup (casa_ab…)", "scope": "read"})
    Notification.objects.filter(kind="apps.update_available").update(read_at="2026-01-01T00:00:00Z")
    Channel.objects.create(
        user=admin,
        kind="email",
        address="admin@example.test",
        last_error="SMTP 127.0.0.1:25: [Errno 111] Connection refused",
        last_error_at="2026-12-06T10:00:00Z",
    )


def test_nothing_scrolls_sideways_on_a_phone(browser, live_stack, admin_user, transactional_db):
    _some(admin_user)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/")
    open_bell(page)
    assert page.locator(".notify-panel").bounding_box()["width"] <= 390
    page.screenshot(path=str(ARTIFACTS / "notify-bell-390-dark.png"))
    for name, path in (("list", "/notifications/"), ("settings", "/settings/notifications/")):
        page.goto(f"{live_stack.url}{path}")
        page.screenshot(path=str(ARTIFACTS / f"notify-{name}-390-dark.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{path} scrolls sideways"
    context.close()
