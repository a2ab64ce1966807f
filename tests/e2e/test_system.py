"""Chromium: Settings → System (a refusal beside its field, a saved change, step-up then a typed restart) and the Logs
page (filters, live tail), at 1440 and 390 px in both schemes, with axe-core. Host commands go to the tests'
recorder (casaos_site/settings_test.py): nothing here renames or restarts the machine."""

import json
import time

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.permissions import STEPUP_SECONDS, STEPUP_SESSION_KEY
from tests.conftest import ARTIFACTS, browser_login
from tests.e2e.site_walk import AXE, AXE_RUN
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.stack]
SIZES = {"wide": {"width": 1440, "height": 1000}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def fake_host_files(transactional_db):
    """The live stack's fake host (settings_test.py): a host name to start from, an empty command log."""
    root, log = settings.SYSTEM_HOST_ROOT, settings.DATA_DIR / "host.log"
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "hostname").write_text("casa-e2e\n")
    log.unlink(missing_ok=True)
    yield root, log
    log.unlink(missing_ok=True)


def look(browser, live_stack, username, path, name):
    """Screenshots at both widths in both schemes; the page never scrolls sideways, axe finds nothing serious."""
    found = {}
    for scheme in ("light", "dark"):
        for size, viewport in SIZES.items():
            context = browser.new_context(viewport=viewport, color_scheme=scheme, bypass_csp=True)
            tab = context.new_page()
            browser_login(tab, live_stack, username)
            tab.goto(f"{live_stack.url}{path}")
            tab.wait_for_load_state("networkidle")
            assert tab.evaluate("document.documentElement.scrollWidth") <= viewport["width"], (name, size, scheme)
            tab.add_script_tag(path=str(AXE))
            if violations := tab.evaluate(AXE_RUN):
                found[f"{name} {size} {scheme}"] = violations
            ARTIFACTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / f"system-{name}-{size}-{scheme}.png"), full_page=True)
            context.close()
    assert found == {}, json.dumps(found, indent=1)


def _step_up_expired(page) -> None:
    """Logging in counts as a step-up: age it past its 15 minutes in the browser's session (sessions are rows)."""
    from django.contrib.sessions.backends.db import SessionStore

    key = next(c["value"] for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = SessionStore(session_key=key)
    session[STEPUP_SESSION_KEY] = time.time() - STEPUP_SECONDS - 60
    session.save()


def test_the_system_page_saves_refuses_and_restarts_after_step_up(
    page, browser, live_stack, admin_user, fake_host_files
):
    root, log = fake_host_files
    url = live_stack.url
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{url}/settings/")
    page.click("aside a[href='/settings/system/']")
    page.wait_for_url(f"{url}/settings/system/")
    assert page.input_value("#id_hostname") == "casa-e2e"

    page.fill("#id_hostname", "bad_name")
    page.click("form.system-form button[type=submit]")
    assert page.locator(".form-error").first.inner_text().startswith("“bad_name” is not a valid host name")
    assert (root / "etc" / "hostname").read_text() == "casa-e2e\n"

    page.fill("#id_hostname", "den-e2e")
    page.select_option("#id_time_zone", "Europe/Berlin")
    page.click("form.system-form button[type=submit]")
    page.wait_for_selector("text=Saved.")
    assert (root / "etc" / "hostname").read_text() == "den-e2e\n"
    assert (root / "etc" / "timezone").read_text() == "Europe/Berlin\n"

    _step_up_expired(page)
    page.reload()
    assert page.locator("form[action$='/restart/'] button").is_disabled()  # step-up first
    page.click("text=Confirm your password")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")  # not the header's "Log out"
    page.wait_for_url(f"{url}/settings/system/")
    page.click("form[action$='/restart/'] button")
    page.wait_for_selector("#prompt-dialog[open]")
    page.fill("#prompt-dialog-input", "den")
    page.press("#prompt-dialog-input", "Enter")
    assert page.locator("#prompt-dialog[open]").count() == 1  # a wrong name keeps the dialog open
    assert "systemctl" not in log.read_text()  # only the host name change ran so far
    page.fill("#prompt-dialog-input", "den-e2e")
    page.click("#prompt-dialog-ok")
    page.wait_for_selector("text=The box is restarting")
    assert [json.loads(line) for line in log.read_text().splitlines()][-1] == ["systemctl", "reboot"]
    look(browser, live_stack, admin_user.username, "/settings/system/", "settings")


def test_the_logs_page_filters_and_tails(page, browser, live_stack, admin_user, fake_host_files):
    url = live_stack.url
    browser_login(page, live_stack, admin_user.username)  # the web process logs the login (audit): a line to find
    page.goto(f"{url}/settings/logs/")
    page.wait_for_selector(".log-entry")
    page.fill("#id_q", "login.success")
    messages = page.locator(".log-message")
    expect(messages.filter(has_not_text="login.success")).to_have_count(0)
    expect(messages.first).to_contain_text("login.success")
    page.check("#id_live")
    page.fill("#id_q", "system.settings")
    expect(messages.filter(has_not_text="system.settings")).to_have_count(0)
    before = messages.count()
    token = json.loads(page.get_attribute("body", "hx-headers"))["X-CSRFToken"]
    changed = page.request.patch(f"{url}/api/system/settings/", data={"language": "de"}, headers={"X-CSRFToken": token})
    assert changed.ok, changed.text()
    # The live tail brings the change's audit line without a reload.
    expect(messages).to_have_count(before + 1, timeout=10_000)
    page.request.patch(f"{url}/api/system/settings/", data={"language": ""}, headers={"X-CSRFToken": token})
    look(browser, live_stack, admin_user.username, "/settings/logs/", "logs")
