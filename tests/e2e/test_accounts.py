"""Chromium: first-run setup -> enrol TOTP -> log out -> log in with OTP -> create a member -> the member sees
no admin pages."""

import re
import time

import pytest
from django.conf import settings

from accounts.services.setup import setup_token_issue
from tests.accounts.conftest import totp_code
from tests.conftest import ARTIFACTS, browser_login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.stack]
MEMBER_PASSWORD = "a family member's long passphrase"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _fresh_code(key: bytes, used: set[int]) -> str:
    """A code for a 30-second step not used yet (each step's code works once)."""
    while int(time.time() // 30) in used:
        time.sleep(0.5)
    used.add(int(time.time() // 30))
    return totp_code(key)


@pytest.fixture
def setup_token(transactional_db):
    token = setup_token_issue()
    yield token
    (settings.DATA_DIR / "setup-token").unlink(missing_ok=True)


def test_it_walks_first_run_mfa_and_user_management(page, live_stack, setup_token):
    url = live_stack.url
    csp_errors = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)

    page.goto(f"{url}/")
    assert page.url == f"{url}/setup/"
    _shot(page, "accounts-setup")
    page.fill("#id_token", setup_token)
    page.fill("#id_username", "boss")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/settings/mfa/")

    key_text = page.locator("#totp-key").inner_text()
    key = __import__("base64").b32decode(key_text)
    assert page.locator(".qr img").is_visible()
    _shot(page, "accounts-mfa-enrol")
    used: set[int] = set()
    page.fill("#id_code", _fresh_code(key, used))
    page.click("form button:has-text('Turn on MFA')")
    page.wait_for_selector("#backup-codes")
    assert page.locator("#backup-codes li").count() == 10
    _shot(page, "accounts-mfa-backup-codes")

    page.click("header form button[type=submit]")  # log out
    page.wait_for_url(re.compile(r".*/login/$"))
    browser_login(page, live_stack, "boss")
    assert "/accounts/login/otp/" in page.url
    _shot(page, "accounts-login-otp")
    page.fill("#id_code", _fresh_code(key, used))
    page.click("button:has-text('Verify')")
    page.wait_for_url(f"{url}/")

    # A login with password and code counts as a fresh step-up (15 minutes) for user management.
    page.goto(f"{url}/settings/users/")
    page.fill("#id_username", "kid")
    page.fill("#id_password1", MEMBER_PASSWORD)
    page.fill("#id_password2", MEMBER_PASSWORD)
    page.click("button:has-text('Add user')")
    page.wait_for_selector("#user-list a:has-text('kid')")
    _shot(page, "accounts-users")
    page.goto(f"{url}/accounts/stepup/")
    _shot(page, "accounts-stepup")
    page.goto(f"{url}/settings/audit/")
    assert page.locator("#audit-log code:has-text('user.created')").count() == 1
    _shot(page, "accounts-audit")
    page.click("header form button[type=submit]")

    page.wait_for_url(re.compile(r".*/login/$"))
    _shot(page, "accounts-login")
    browser_login(page, live_stack, "kid", MEMBER_PASSWORD)
    assert page.url == f"{url}/"
    page.goto(f"{url}/settings/")
    assert page.locator("a:has-text('Users')").count() == 0
    _shot(page, "accounts-member-settings")
    for path in ("/settings/users/", "/settings/audit/", "/settings/security/"):
        assert page.goto(f"{url}{path}").status == 403
    assert page.goto(f"{url}/django-admin/").status == 403
    assert not csp_errors, csp_errors
