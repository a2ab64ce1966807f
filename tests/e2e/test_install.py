"""Chromium: install an app from a compose document and watch its download bar move and reach done; cancel an
install from its page; see a container killed outside CasaOS show as stopped."""

import re
import subprocess
import time
import urllib.request

import pytest

from apps.models import Installation
from apps.services import app_install
from tests.apps import conftest as apps_fixtures
from tests.apps.conftest import HTTPD, NOTHING, leftovers
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.docker]
# The install fixtures: a unique app name (cleaned up on the engine) and a slow, fresh image to watch.
app_name, docker_engine, slow_image = apps_fixtures.app_name, apps_fixtures.docker_engine, apps_fixtures.slow_image


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _install_state(page, expression: str, timeout: int = 60_000) -> None:
    page.wait_for_function(
        f"() => {{ const el = document.querySelector('#app-install'); return el && ({expression}); }}", timeout=timeout
    )


def test_it_installs_from_compose_and_the_bar_reaches_done(
    page, live_stack, admin_user, transactional_db, slow_image, app_name
):
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


def _start_install(page, live_stack, image: str, name: str) -> None:
    page.goto(f"{live_stack.url}/apps/install/")
    page.fill(
        "#id_compose",
        f"services:\n  web:\n    image: {image}\n    ports: ['${{WEBUI_PORT}}:8080']\n"
        "    volumes: [data:/data]\nvolumes:\n  data: {}\n",
    )
    page.fill("#id_name", name)
    page.click("#install-form button[type=submit]")
    page.wait_for_url(re.compile(r"/apps/\d+/$"))


def test_it_cancels_from_the_page_and_leaves_nothing(
    page, live_stack, admin_user, transactional_db, slow_image, app_name, docker_engine
):
    browser_login(page, live_stack, admin_user.username)
    _start_install(page, live_stack, slow_image, app_name)
    _install_state(page, "el.dataset.status === 'pulling' && +el.dataset.percent > 0 && +el.dataset.percent < 100")

    page.click("#cancel-install")
    _install_state(page, "el.dataset.status === 'cancelled'", timeout=60_000)
    assert "cancelled" in page.locator("[data-result]").inner_text()
    assert page.locator("#cancel-install").count() == 0
    shot(page, "apps-install-cancelled")

    inst = Installation.objects.get(name=app_name)
    assert inst.status == Installation.Status.CANCELLED
    assert 0 < inst.progress["current"] < inst.progress["total"]  # it really stopped part-way
    assert leftovers(docker_engine, app_name) == NOTHING  # its network and volume were made during the pull
    assert not docker_engine.image_exists(slow_image)
    page.reload()  # the database says the same
    _install_state(page, "el.dataset.status === 'cancelled'", timeout=5_000)


def test_a_container_killed_outside_shows_as_stopped(
    page, live_stack, admin_user, transactional_db, app_name, docker_engine
):
    inst = app_install(
        user=admin_user,
        compose=f"services:\n  web:\n    image: {HTTPD}\n    ports: ['${{WEBUI_PORT}}:8080']\n",
        name=app_name,
    )
    deadline = time.monotonic() + 120
    while (inst := Installation.objects.get(pk=inst.pk)).status != Installation.Status.RUNNING:
        assert time.monotonic() < deadline and inst.status not in ("failed", "cancelled"), (inst.status, inst.error)
        time.sleep(0.2)
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/apps/{inst.pk}/manage/")
    page.wait_for_function("() => document.querySelector('[data-live-state]').classList.contains('is-live')")
    assert "badge-running" in page.locator("#app-card [data-status-badge]").get_attribute("class")
    assert page.locator("#container-state-web").get_attribute("data-container-state") == "running"
    page.evaluate("() => { window.casaSamePage = true; }")  # gone if anything reloads the page

    subprocess.run(["docker", "kill", f"{app_name}-web-1"], check=True, capture_output=True)

    # The events listener records the change and pushes it: the card turns "stopped" with the socket still live,
    # and so does the container's row in the list below.
    page.wait_for_selector("#app-card [data-status-badge].badge-stopped", timeout=10_000)
    page.wait_for_selector("#container-state-web[data-container-state=exited]", timeout=5_000)
    assert "badge-exited" in page.locator("#container-state-web").get_attribute("class")
    assert page.locator(".container-box").count() == 1
    assert page.evaluate("() => window.casaSamePage") is True
    assert page.locator("[data-live-state]").get_attribute("class").split().count("is-live") == 1
    assert Installation.objects.get(pk=inst.pk).status == Installation.Status.STOPPED
    shot(page, "apps-killed-outside")
