"""Chromium: a real app (real worker, real engine) stopped and started from its tile's menu on the home page; the
status dot follows over the page's socket, and a click on the stopped app's tile offers to start it."""

import time

import pytest

from apps.models import Installation
from apps.services import app_install
from tests.apps import conftest as apps_fixtures
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.docker]
app_name, docker_engine = apps_fixtures.app_name, apps_fixtures.docker_engine


def installed(user, name: str) -> Installation:
    compose = f"services:\n  web:\n    image: {apps_fixtures.HTTPD}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"
    inst = app_install(user=user, compose=compose, name=name)  # the live worker installs it
    for _ in range(300):
        inst.refresh_from_db()
        if not inst.in_progress:
            break
        time.sleep(0.2)
    assert inst.status == Installation.Status.RUNNING, inst.error
    return inst


def choose(page, inst: Installation, label: str) -> None:
    page.locator(f"#tile-{inst.pk} summary").click()
    page.locator(f"#tile-{inst.pk} .tile-menu ul").get_by_text(label, exact=True).click()


def test_a_tile_stops_and_starts_its_app_and_shows_it_live(
    page, live_stack, admin_user, transactional_db, app_name, docker_engine
):
    inst = installed(admin_user, app_name)
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/")
    page.wait_for_function("() => document.querySelector('[data-live-state]').classList.contains('is-live')")
    assert page.locator(f"#tile-{inst.pk} .dot-running").count() == 1

    choose(page, inst, "Stop")
    page.wait_for_function("() => (document.getElementById('tiles-status')?.textContent || '').includes('Stopping')")
    # No reload: the tiles arrive over /ws/apps/live/ when the engine says the app stopped.
    page.wait_for_selector(f"#tile-{inst.pk} .dot-stopped", timeout=60_000)
    assert page.url == f"{live_stack.url}/"

    page.click(f"#tile-{inst.pk} .tile-open")
    page.wait_for_url(f"**/apps/{inst.pk}/open/")  # a stopped app's tile offers to start it
    page.goto(f"{live_stack.url}/")  # (not back: the browser would show its cached copy, from before the stop)
    choose(page, inst, "Start")
    page.wait_for_selector(f"#tile-{inst.pk} .dot-running", timeout=60_000)
