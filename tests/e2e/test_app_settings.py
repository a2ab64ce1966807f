"""Chromium: a fresh app's settings page, each field changed once, each result read back from the engine."""

import time

import pytest

from apps.models import AppEvent, Installation
from tests.apps import conftest as apps_fixtures
from tests.conftest import browser_login, free_port
from tests.e2e.test_apps_manage import get, shot, wait_done

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.docker]
app_name, docker_engine = apps_fixtures.app_name, apps_fixtures.docker_engine

COMPOSE = f"""services:
  web:
    image: {apps_fixtures.HTTPD}
    ports:
      - "127.0.0.1:${{WEBUI_PORT}}:8080"
    environment:
      GREETING: hi
    stop_grace_period: 1s
    volumes:
      - data:/data
volumes:
  data: {{}}
"""


def install_from_the_custom_page(page, live_stack, name: str) -> Installation:
    """As a new user would: the compose pasted into the custom-app form (the browser sends CRLF line ends)."""
    page.goto(f"{live_stack.url}/apps/install/")
    page.fill("#id_compose", COMPOSE)
    page.fill("#id_name", name)
    page.click("#install-form button[type=submit]")
    page.wait_for_url("**/apps/*/")
    inst = Installation.objects.get(name=name)
    for _ in range(300):
        inst.refresh_from_db()
        if not inst.in_progress:
            break
        time.sleep(0.2)
    assert inst.status == Installation.Status.RUNNING, inst.error
    return inst


def apply(page, live_stack, inst: Installation, fill) -> dict:
    """Open the settings page, change what `fill` changes, Apply; the operation must end Done. Returns inspect."""
    page.goto(f"{live_stack.url}/apps/{inst.pk}/settings/")
    fill(page)
    before = AppEvent.objects.filter(installation=inst, operation="settings").count()
    page.click("#save-settings")
    page.wait_for_url(f"**/apps/{inst.pk}/manage/")
    assert AppEvent.objects.filter(installation=inst, operation="settings").count() == before + 1
    event = wait_done(page, inst, "settings")
    assert event.outcome == AppEvent.Outcome.DONE, event.message
    inst.refresh_from_db()
    return container_config(inst)


def container_config(inst: Installation) -> dict:
    eng = apps_fixtures.runtime.get_engine(apps_fixtures.ENGINES["docker"])
    (container,) = eng.list({"io.casaos.app": inst.name})
    assert container.running
    return eng.container_config(container.id)


def form_value(page, live_stack, inst: Installation, field: str) -> str:
    page.goto(f"{live_stack.url}/apps/{inst.pk}/settings/")
    return page.input_value(f"#id_web__{field}")


def test_each_settings_field_changes_the_container_on_the_first_apply(
    page, live_stack, admin_user, transactional_db, app_name, docker_engine, settings
):
    browser_login(page, live_stack, admin_user.username)
    inst = install_from_the_custom_page(page, live_stack, app_name)

    # The reported case: restart policy and one new variable together, on the very first Apply.
    def restart_and_env(pg):
        pg.select_option("#id_web__restart", "unless-stopped")
        pg.fill("#id_web__env", pg.input_value("#id_web__env") + "\nEXTRA=1")

    config = apply(page, live_stack, inst, restart_and_env)
    assert config["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert {"GREETING=hi", "EXTRA=1"} <= set(config["Config"]["Env"])
    assert form_value(page, live_stack, inst, "restart") == "unless-stopped"
    assert form_value(page, live_stack, inst, "env").splitlines() == ["GREETING=hi", "EXTRA=1"]
    shot(page, "apps-settings-applied")

    port = free_port()
    config = apply(page, live_stack, inst, lambda pg: pg.fill("#id_web__ports", f"127.0.0.1:{port}:8080"))
    assert config["HostConfig"]["PortBindings"]["8080/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
    assert inst.web_port == port and get(port) == "hello v1"

    media = settings.FILES_ROOT / f"{app_name}-media"  # a folder of the file manager: no host-access consent
    config = apply(page, live_stack, inst, lambda pg: pg.fill("#id_web__volumes", f"data:/data\n{media}:/media:ro"))
    binds = {m["Destination"]: m for m in config["Mounts"]}
    assert binds["/media"]["Source"] == str(media) and not binds["/media"]["RW"]
    assert binds["/data"]["Name"] == f"{app_name}_data"
    media.rmdir()  # made by the installer, empty

    config = apply(page, live_stack, inst, lambda pg: pg.fill("#id_web__cpus", "0.5"))
    assert config["HostConfig"]["NanoCpus"] == 500_000_000

    config = apply(page, live_stack, inst, lambda pg: pg.fill("#id_web__memory", "64m"))
    assert config["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert config["HostConfig"]["NanoCpus"] == 500_000_000  # the earlier change stays

    def raw(pg):
        pg.click("details:has(#id_raw) > summary")  # the header has its own (the bell)
        pg.fill("#id_raw", pg.input_value("#id_raw").replace("GREETING: hi", "GREETING: from-raw"))

    config = apply(page, live_stack, inst, raw)
    assert "GREETING=from-raw" in config["Config"]["Env"] and "EXTRA=1" in config["Config"]["Env"]
    assert config["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    media.rmdir()  # the installer made it, empty
