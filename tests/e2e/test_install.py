"""Chromium: install an app from a compose document and watch its download bar move and reach done."""

import re
import urllib.request

import pytest

from tests.apps import conftest as apps_fixtures
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.docker]
# The install fixtures: a unique app name (cleaned up on the engine) and a slow, fresh image to watch.
app_name, docker_engine, slow_image = apps_fixtures.app_name, apps_fixtures.docker_engine, apps_fixtures.slow_image


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _install_state(page, expression: str, timeout: int = 60_000) -> None:
    page.wait_for_function(f"() => {{ const el = document.querySelector('#app-install'); return el && ({expression}); }}",
                           timeout=timeout)


def test_it_installs_from_compose_and_the_bar_reaches_done(page, live_stack, admin_user, transactional_db,
                                                          slow_image, app_name):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/apps/install/")
    page.fill("#id_compose", f"services:\n  web:\n    image: {slow_image}\n    ports: ['${{WEBUI_PORT}}:8080']\n")
    page.fill("#id_name", app_name)
    shot(page, "apps-install-form")
    page.click("#install-form button[type=submit]")
    page.wait_for_url(re.compile(r"/apps/\d+/$"))

    # The image trickles in at 1 MiB/s: the bar shows bytes part-way, pushed over the websocket.
    _install_state(page, "el.dataset.status === 'pulling' && +el.dataset.percent > 0 && +el.dataset.percent < 100")
    assert "MB" in page.locator(".image-progress").first.inner_text()
    page.wait_for_function("() => document.querySelector('[data-live-state]').classList.contains('is-live')")
    shot(page, "apps-install-progress")

    _install_state(page, "el.dataset.status === 'running'", timeout=120_000)
    assert page.locator("#app-progress-bar").get_attribute("value") == "100"
    assert [s.get_attribute("class") for s in page.locator(".steps .step").all()] == ["step step-done"] * 5
    link = page.locator("[data-result] a").get_attribute("href")
    with urllib.request.urlopen(link, timeout=5) as resp:
        assert resp.read().decode().strip() == "hello fresh"
    shot(page, "apps-install-done")

    page.reload()  # the database holds the same final state
    _install_state(page, "el.dataset.status === 'running'", timeout=5_000)
    page.goto(f"{live_stack.url}/apps/list/")
    assert page.locator("#apps-list tr[data-status=running]", has_text=app_name).count() == 1
    shot(page, "apps-list")
