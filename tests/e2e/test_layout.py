"""Chromium: times read relative in the page's language with the absolute time, in the browser's own time zone, on
hover (also in fragments htmx swaps in); the user's theme wins over the browser's preference, with no flash."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]
TOKYO = "Asia/Tokyo"
BRIGHTNESS = """() => { const [r, g, b] = getComputedStyle(document.documentElement).backgroundColor.match(/\\d+/g).map(Number);
  return (r + g + b) / 3; }"""


def test_times_are_relative_with_the_absolute_time_in_the_browsers_zone(
    browser, live_stack, member_user, transactional_db
):
    from accounts.models import APIToken
    from accounts.services.tokens import api_token_create

    token, _ = api_token_create(user=member_user, name="clock", scope="read")
    created = timezone.now() - timedelta(minutes=3)
    APIToken.objects.filter(pk=token.pk).update(created_at=created)
    context = browser.new_context(timezone_id=TOKYO, locale="en-US")
    page = context.new_page()
    try:
        browser_login(page, live_stack, member_user.username)
        page.goto(f"{live_stack.url}/settings/tokens/")
        stamp = page.locator(f"time[datetime='{created.astimezone(ZoneInfo('UTC')).isoformat()}']")
        assert stamp.inner_text() == "3 minutes ago"
        tokyo = created.astimezone(ZoneInfo(TOKYO))
        clock = f"{tokyo.hour % 12 or 12}:{tokyo.minute:02d} {'AM' if tokyo.hour < 12 else 'PM'}"
        title = stamp.get_attribute("title")
        assert clock in title and str(tokyo.day) in title and str(tokyo.year) in title, title
    finally:
        context.close()


def test_times_htmx_swaps_in_are_formatted_too(page, live_stack, admin_user, transactional_db):
    from django.conf import settings

    (settings.FILES_ROOT / "clock.txt").write_text("tick")
    try:
        browser_login(page, live_stack, admin_user.username)
        page.goto(f"{live_stack.url}/files/")
        listed = page.locator("#listing tr", has_text="clock.txt").locator(
            "time[data-when]"
        )  # other files may be older
        assert re.fullmatch(r"now|\d+ (seconds?|minutes?) ago", listed.inner_text()), listed.inner_text()
        page.evaluate("document.querySelector('#listing').dataset.old = 'yes'")
        page.locator("#listing th a", has_text="Modified").click()
        page.wait_for_function("() => !document.querySelector('#listing').dataset.old")  # the listing was swapped
        swapped = page.locator("#listing tr", has_text="clock.txt").locator("time[data-when]")
        expect(swapped).to_have_text(re.compile(r"^(now|\d+ (seconds?|minutes?) ago)$"), timeout=5000)
        assert swapped.get_attribute("title")
    finally:
        (settings.FILES_ROOT / "clock.txt").unlink()


@pytest.mark.parametrize(
    ("theme", "browser_scheme", "dark"),
    [("system", "dark", True), ("system", "light", False), ("dark", "light", True), ("light", "dark", False)],
)
def test_the_users_theme_wins_over_the_browsers(
    browser, live_stack, member_user, transactional_db, theme, browser_scheme, dark
):
    from accounts.services.preferences import theme_set

    theme_set(user=member_user, theme=theme)
    context = browser.new_context(color_scheme=browser_scheme)
    page = context.new_page()
    try:
        browser_login(page, live_stack, member_user.username)
        brightness = page.evaluate(BRIGHTNESS)
        assert (brightness < 100) == dark, brightness
    finally:
        context.close()


def test_the_theme_is_chosen_on_the_account_page(page, live_stack, member_user, transactional_db):
    browser_login(page, live_stack, member_user.username)
    page.goto(f"{live_stack.url}/settings/")
    page.check("#theme input[value=dark]")
    page.click("#theme button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate(BRIGHTNESS) < 100
    member_user.refresh_from_db()
    assert member_user.theme == "dark"
