"""Chromium: the third-party pages (Django admin, DRF's browsable API, Swagger UI) work under our CSP.

An admin with MFA logs in with password and code, then each page must render without a console error (a CSP
violation is one) and without an uncaught script error.
"""

import pytest

from tests.accounts.conftest import give_mfa, totp_code
from tests.conftest import ARTIFACTS, browser_login
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.stack]

PAGES = {
    "django-admin": ("/django-admin/", "#site-name"),
    "django-admin-users": ("/django-admin/accounts/user/", "#result_list"),
    "django-admin-user": ("/django-admin/accounts/user/{pk}/change/", "#user_form"),
    "django-admin-audit": ("/django-admin/accounts/auditevent/", "#changelist"),
    "api-root": ("/api/", ".response-info"),
    "api-users": ("/api/users/", ".response-info"),
    "api-docs": ("/api/docs/", ".swagger-ui .info .title"),
}


# Docker networks made by other tests on this machine make Chromium drop requests with this; it is not the page.
NETWORK_NOISE = "net::ERR_NETWORK_CHANGED"


def _problems(page) -> list[str]:
    problems: list[str] = []

    def on_console(msg):
        if msg.type == "error" and NETWORK_NOISE not in msg.text:
            problems.append(f"console {msg.type}: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return problems


@pytest.mark.parametrize("name", PAGES)
def test_the_third_party_pages_render_under_the_csp(page, live_stack, transactional_db, name):
    admin = UserFactory(admin=True, username="cspadmin")
    key = give_mfa(admin)
    problems = _problems(page)
    browser_login(page, live_stack, "cspadmin")
    page.fill("#id_code", totp_code(key))
    page.click("button:has-text('Verify')")
    page.wait_for_url(f"{live_stack.url}/")

    path, landmark = PAGES[name]
    response = page.goto(f"{live_stack.url}{path.format(pk=admin.pk)}")
    assert response.status == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy  # scripts are never relaxed; inline styles only under /api/
    assert ("style-src 'self' 'unsafe-inline';" in policy) == path.startswith("/api/")
    page.wait_for_selector(landmark)
    page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"accounts-csp-{name}.png"), full_page=name != "api-docs")
    assert problems == []
