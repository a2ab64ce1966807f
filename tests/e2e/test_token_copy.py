"""Chromium: a new API token has a copy button: the Clipboard API where the page is a secure context, else the token
selected and the old copy command; either way the result is said in a live region."""

import pytest

from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]
VIEWS = [(1440, "light"), (1440, "dark"), (390, "light"), (390, "dark")]


def create_token(page, live_stack, username: str) -> str:
    browser_login(page, live_stack, username)
    page.goto(f"{live_stack.url}/settings/tokens/")
    page.fill("#id_name", "backup script")
    page.click("form button[type=submit]:has-text('Create token')")
    page.wait_for_selector("#token-value")
    return page.inner_text("#token-value").strip()


def test_the_copy_button_puts_the_token_on_the_clipboard(browser, live_stack, member_user, transactional_db):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        token = create_token(page, live_stack, member_user.username)
        assert token.startswith("casa_")
        status = page.locator("#token-copy-status")
        assert status.get_attribute("role") == "status" and status.inner_text() == ""
        page.click("#token-copy")
        page.wait_for_function("() => document.querySelector('#token-copy-status').textContent.length > 0")
        assert status.inner_text() == "Copied to the clipboard."
        assert page.evaluate("navigator.clipboard.readText()") == token
        page.focus("#token-copy")  # from the keyboard too
        page.evaluate("navigator.clipboard.writeText('')")
        page.keyboard.press("Enter")
        page.wait_for_function("(t) => navigator.clipboard.readText().then(c => c === t)", arg=token)
    finally:
        context.close()


def test_without_the_clipboard_api_the_token_is_selected_to_copy(browser, live_stack, member_user, transactional_db):
    """http://192.168.x.y is no secure context: no navigator.clipboard. The token ends selected, and copied."""
    context = browser.new_context()
    context.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined});")
    page = context.new_page()
    try:
        token = create_token(page, live_stack, member_user.username)
        page.click("#token-copy")
        page.wait_for_function("() => document.querySelector('#token-copy-status').textContent.length > 0")
        assert page.evaluate("window.getSelection().toString().trim()") == token
        assert page.inner_text("#token-copy-status") in (
            "Copied to the clipboard.",
            "Selected: press Ctrl+C (⌘C on a Mac) to copy.",
        )
    finally:
        context.close()


@pytest.mark.parametrize(("width", "scheme"), VIEWS)
def test_the_token_page_fits_each_width_and_theme(browser, live_stack, member_user, transactional_db, width, scheme):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        create_token(page, live_stack, member_user.username)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"token-copy-{width}-{scheme}.png"), full_page=True)
    finally:
        context.close()
