"""Chromium + axe-core (from node_modules, injected by the test: it is a test tool, never served): the wide layout has no
serious or critical violation, light and dark (every page is checked on a phone by the walk, tests/e2e/test_walk_*.py);
and the keyboard reaches the phone menu, the skip link and the confirm dialog, which Escape closes."""

import pytest

from tests.conftest import ARTIFACTS, browser_login
from tests.e2e.site_walk import AXE, AXE_RUN

pytestmark = [pytest.mark.browser, pytest.mark.stack]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation_in_the_wide_layout(browser, live_stack, admin_user, transactional_db, scheme):
    """The walk runs on a phone; the wide layout's own parts (the header's links) are checked here, on the dashboard."""
    context = browser.new_context(viewport=DESKTOP, color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    try:
        browser_login(page, live_stack, admin_user.username)
        page.wait_for_load_state("networkidle")
        page.add_script_tag(path=str(AXE))
        assert page.evaluate(AXE_RUN) == []
        page.screenshot(path=str(ARTIFACTS / f"wide-{scheme}.png"), full_page=True)
    finally:
        context.close()


def test_the_phone_menu_opens_and_closes_from_the_keyboard(browser, live_stack, member_user, transactional_db):
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    try:
        browser_login(page, live_stack, member_user.username)
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < PHONE["height"] / 8, "the header takes a sliver of a phone, not a third"
        toggle = page.locator(".nav-toggle")
        assert toggle.get_attribute("aria-expanded") == "false" and not page.locator("#site-nav").is_visible()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        toggle.focus()
        page.keyboard.press("Enter")
        assert toggle.get_attribute("aria-expanded") == "true" and page.locator("#site-nav").is_visible()
        page.keyboard.press("Tab")
        page.keyboard.press("Escape")
        assert toggle.get_attribute("aria-expanded") == "false" and not page.locator("#site-nav").is_visible()
        assert page.evaluate("document.activeElement.classList.contains('nav-toggle')")
        page.screenshot(path=str(ARTIFACTS / "phone-menu.png"))
    finally:
        context.close()


def test_wide_screens_show_the_links_without_a_menu_button(page, live_stack, member_user, transactional_db):
    browser_login(page, live_stack, member_user.username)
    assert not page.locator(".nav-toggle").is_visible() and page.locator("#site-nav").is_visible()


def test_the_confirm_dialog_traps_focus_and_escape_closes_it(page, live_stack, member_user, transactional_db):
    from accounts.services.tokens import api_token_create

    api_token_create(user=member_user, name="walk", scope="read")
    browser_login(page, live_stack, member_user.username)
    page.goto(f"{live_stack.url}/settings/tokens/")
    page.locator("form[data-confirm] button[type=submit]").first.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#confirm-dialog")
    assert dialog.evaluate("d => d.open")
    for key in ["Tab"] * 5 + ["Shift+Tab"] * 3:  # focus cycles inside the modal dialog, never to the browser's bar
        page.keyboard.press(key)
        assert page.evaluate("document.getElementById('confirm-dialog').contains(document.activeElement)"), key
    page.keyboard.press("Escape")
    assert not dialog.evaluate("d => d.open")
    assert page.locator("table tbody tr").count() >= 1, "nothing was revoked"


def test_a_marked_change_is_read_out_through_the_pages_live_region(page, live_stack, member_user, transactional_db):
    """Install steps, app states and the uploads' total carry data-announce; a swap that replaces them is read out."""
    browser_login(page, live_stack, member_user.username)
    region = page.locator("#casa-announcer")
    assert region.get_attribute("role") == "status"
    page.evaluate("""() => { const el = document.createElement('span'); el.dataset.announce = 'demo';
        el.textContent = 'Installing'; el.id = 'demo'; document.querySelector('main').append(el); }""")
    page.wait_for_timeout(2500)
    assert region.inner_text() == "", "a new element is not news"
    page.evaluate("document.getElementById('demo').outerHTML = '<span data-announce=\"demo\">Running</span>'")
    page.wait_for_function("() => document.getElementById('casa-announcer').textContent === 'Running'")
