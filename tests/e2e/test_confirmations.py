"""Chromium: destructive actions ask first, in the page. Deleting an app's data names the volume and the folder
and asks for the password even right after logging in; revoking a token names it; no native dialog ever opens."""

import time

import pytest
from django.conf import settings

from accounts.models import APIToken
from accounts.services.tokens import api_token_create
from apps.models import Installation
from apps.services import app_install
from tests.apps import conftest as apps_fixtures
from tests.conftest import ARTIFACTS, browser_login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.stack]
app_name, docker_engine = apps_fixtures.app_name, apps_fixtures.docker_engine


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def no_native_dialogs(page) -> list[str]:
    """window.confirm/alert/prompt would show up here (and be dismissed, so the action would not run)."""
    natives: list[str] = []
    page.on("dialog", lambda dialog: (natives.append(dialog.message), dialog.dismiss()))
    return natives


def wait_until(check, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def shots_of_the_dialog(page, name: str) -> None:
    """Light and dark, desktop and phone: the dialog must fit and read well in each."""
    for width, scheme in ((1440, "light"), (1440, "dark"), (390, "light"), (390, "dark")):
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        page.wait_for_timeout(400)  # Pico eases colours in: let the switch finish
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}-{scheme}.png"))
    page.set_viewport_size({"width": 1280, "height": 860})
    page.emulate_media(color_scheme="light")


@pytest.mark.docker
def test_deleting_an_apps_data_names_it_and_asks_for_the_password(
    page, live_stack, admin_user, transactional_db, app_name, docker_engine
):
    own = settings.APPSTORE_APPS_DATA_ROOT / app_name / "config"
    own.mkdir(parents=True, exist_ok=True)
    compose = (
        f"services:\n  web:\n    image: {apps_fixtures.HTTPD}\n    volumes:\n      - data:/data\n"
        f"      - {settings.APPSTORE_APPS_DATA_ROOT}/${{AppID}}/config:/config\nvolumes:\n  data: {{}}\n"
    )
    inst = app_install(user=admin_user, compose=compose, name=app_name)  # the live worker installs it
    wait_until(lambda: not Installation.objects.get(pk=inst.pk).in_progress)
    natives = no_native_dialogs(page)
    browser_login(page, live_stack, admin_user.username)  # a fresh login: the step-up window is open
    page.goto(f"{live_stack.url}/apps/{inst.pk}/")  # the install's page: its hx-confirm asks in the page too
    page.click("#uninstall")
    assert "Its data is kept" in page.locator("#confirm-dialog").inner_text()
    page.click("#confirm-dialog button[value=cancel]")
    page.goto(f"{live_stack.url}/apps/{inst.pk}/manage/")

    page.check("#delete-data")
    page.click("#uninstall-app")
    dialog = page.locator("#uninstall-dialog")
    assert dialog.is_visible() and page.locator("#uninstall-password").is_visible()
    named = page.locator("#data-to-delete").inner_text()
    assert f"{app_name}_data" in named and str(settings.APPSTORE_APPS_DATA_ROOT / app_name) in named
    assert not page.locator("#uninstall-confirm").is_visible()  # the plain "Uninstall" is for keeping the data
    shots_of_the_dialog(page, "apps-uninstall-delete-data")
    page.click("#uninstall-dialog [data-confirm-cancel]")
    assert not dialog.is_visible()
    assert Installation.objects.get(pk=inst.pk).status == Installation.Status.RUNNING

    page.click("#uninstall-app")
    page.fill("#uninstall-password", "not my password")
    with page.expect_navigation():
        page.click("#uninstall-delete-confirm")
    assert "That password or code is not right. Nothing was removed." in page.content()
    assert Installation.objects.get(pk=inst.pk).status == Installation.Status.RUNNING and own.is_dir()

    page.check("#delete-data")
    page.click("#uninstall-app")
    page.fill("#uninstall-password", PASSWORD)
    page.click("#uninstall-delete-confirm")
    page.wait_for_url(f"{live_stack.url}/apps/")
    wait_until(lambda: not Installation.objects.filter(pk=inst.pk).exists())
    assert not own.parent.exists()
    assert apps_fixtures.leftovers(docker_engine, app_name) == apps_fixtures.NOTHING
    assert natives == []


def test_revoking_a_token_asks_first_and_names_it(page, live_stack, member_user, transactional_db):
    row, _raw = api_token_create(user=member_user, name="grafana", scope=APIToken.Scope.READ)
    natives = no_native_dialogs(page)
    browser_login(page, live_stack, member_user.username)
    page.goto(f"{live_stack.url}/settings/tokens/")

    page.click(f"#revoke-{row.pk}")
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible() and "grafana" in dialog.inner_text() and row.prefix in dialog.inner_text()
    shots_of_the_dialog(page, "accounts-token-revoke")
    dialog.locator("button[value=cancel]").click()
    assert not dialog.is_visible()
    row.refresh_from_db()
    assert row.revoked_at is None

    page.click(f"#revoke-{row.pk}")
    with page.expect_navigation():
        dialog.locator("#confirm-dialog-ok").click()
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert natives == []
