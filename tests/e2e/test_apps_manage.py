"""Chromium: the apps page, then restart an app and update it from its page (real worker, real engine)."""

import time
import urllib.request

import pytest

from apps.models import AppEvent, Installation
from apps.services import app_install
from apps.services.update import app_update_check
from tests.apps import conftest as apps_fixtures
from tests.apps.test_change import retag
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.docker]
app_name, docker_engine = apps_fixtures.app_name, apps_fixtures.docker_engine


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
        return resp.read().decode().strip()


def wait_done(page, inst: Installation, operation: str) -> AppEvent:
    """Until the operation's history line is closed (the card drops its 'running' badge live)."""
    page.wait_for_function("() => !document.querySelector('#app-operation')", timeout=90_000)
    page.wait_for_function(
        "() => !document.querySelector('#restart-app') || !document.querySelector('#restart-app').disabled",
        timeout=90_000,
    )
    event = AppEvent.objects.filter(installation=inst, operation=operation).first()
    for _ in range(100):
        if event and event.outcome != AppEvent.Outcome.STARTED:
            break
        page.wait_for_timeout(300)
        event = AppEvent.objects.filter(installation=inst, operation=operation).first()
    return event


def test_it_restarts_and_updates_an_app_from_its_page(
    page, live_stack, admin_user, transactional_db, app_name, moving_tag
):
    compose = (
        f"services:\n  web:\n    image: {moving_tag}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"
        "    environment: {GREETING: hi, API_TOKEN: abc}\n    stop_grace_period: 1s\n"
    )
    inst = app_install(user=admin_user, compose=compose, name=app_name)  # the live worker installs it
    for _ in range(300):
        inst.refresh_from_db()
        if not inst.in_progress:
            break
        time.sleep(0.2)
    assert inst.status == Installation.Status.RUNNING, inst.error

    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/apps/")
    assert page.locator(f"#tile-{inst.pk}[data-status=running]").count() == 1
    shot(page, "apps-tiles")

    page.goto(f"{live_stack.url}/apps/{inst.pk}/manage/")
    page.wait_for_function("() => document.querySelector('[data-live-state]').classList.contains('is-live')")
    assert "abc" not in page.locator(".env-table").inner_text()  # the token is masked
    shot(page, "apps-manage")

    page.click("#restart-app")
    event = wait_done(page, inst, "restart")
    assert event.outcome == AppEvent.Outcome.DONE, event.message
    assert get(inst.web_port) == "hello v1"

    retag("2", moving_tag.rsplit(":", 1)[1])
    assert app_update_check(installation=inst, force=True).available
    # No reload: the card arrives over the websocket, and its buttons must still post (CSRF through htmx).
    page.wait_for_selector("#update-reason", timeout=15_000)
    shot(page, "apps-manage-update-available")
    page.click("#update-app")
    event = wait_done(page, inst, "update")
    assert event.outcome == AppEvent.Outcome.DONE, event.message
    assert get(inst.web_port) == "hello v2"
    page.reload()
    assert page.locator("#history").inner_text().count("Done") >= 2
    shot(page, "apps-manage-updated")

    page.goto(f"{live_stack.url}/apps/{inst.pk}/logs/")
    page.wait_for_timeout(1000)
    shot(page, "apps-logs")
    page.goto(f"{live_stack.url}/apps/{inst.pk}/settings/")
    shot(page, "apps-settings")


def test_it_installs_a_custom_app_from_a_docker_run_command(
    page, live_stack, admin_user, transactional_db, app_name, docker_engine
):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/apps/install/")
    page.fill("#id_docker_run", f"docker run -d -e GREETING=pasted -p 127.0.0.1::8080 {apps_fixtures.HTTPD}")
    page.fill("#id_name", app_name)
    shot(page, "apps-custom")
    page.click("#install-form button[type=submit]")
    page.wait_for_url("**/apps/*/")
    inst = Installation.objects.get(name=app_name)
    for _ in range(300):
        inst.refresh_from_db()
        if not inst.in_progress:
            break
        time.sleep(0.2)
    assert inst.status == Installation.Status.RUNNING, inst.error
    (container,) = docker_engine.list({"io.casaos.app": app_name})
    assert "GREETING=pasted" in docker_engine.exec(container.id, ["env"], tty=False).read_all().decode()

    page.goto(f"{live_stack.url}/apps/containers/")
    assert page.locator(f"#container-{container.id[:12]}").count() == 0  # ours is not "other"
    shot(page, "apps-containers")
