"""The engine restarts in the middle of an update: the app ends rolled back and running, never half-updated.

Real processes: Podman's API service is killed while the new container is starting, and started again a few
seconds later (its containers live on, as Docker's do with live-restore; the API is what goes away). Podman
rather than Docker because killing the Docker daemon would stop every other container on this machine.
"""

import subprocess
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

import runtime
from apps.models import AppEvent, Installation
from apps.services.control import app_operation_run
from apps.services.update import app_update_start
from runtime import labels as L
from tests.apps.conftest import install_running as install
from tests.apps.test_change import get, moving_tag_on, retag, web
from tests.conftest import REGISTRY, ROOT

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status
Outcome = AppEvent.Outcome
# The new container takes a few seconds before it serves: the update is waiting for it when the engine goes.
SLOW_START = '\n    command: ["sh", "-c", "sleep 4; exec httpd -f -p 8080 -h /www"]'


@pytest.fixture
def podman(podman_engine) -> runtime.Engine:
    yield podman_engine
    _engine_start()  # whatever happened, leave the service running for the tests after this one


@pytest.fixture
def podman_tag(podman):
    with moving_tag_on(podman) as image:
        yield image


def _engine_stop() -> None:
    subprocess.run(["pkill", "-KILL", "-f", "podman system service"], check=False)


def _engine_start() -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "podman.sh")], check=True, capture_output=True, timeout=60)


def _restart_engine_once_replaced(eng: runtime.Engine, app: str, old_id: str, seen: dict) -> None:
    """Wait until the update has made the new container (the old one set aside), then take the engine away."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ids = {c.id for c in eng.list({L.APP: app})} - {old_id}
        if ids:
            seen["new"] = ids
            _engine_stop()
            time.sleep(4)
            _engine_start()
            return
        time.sleep(0.05)


def test_an_engine_restart_during_an_update_ends_rolled_back_and_running(podman, admin_user, app_name, podman_tag):
    inst = install(admin_user, _with_command(web(podman_tag)), app_name)
    (old,) = podman.list({L.APP: app_name})
    old_image = podman.container_config(old.id)["Image"]
    compose_before = inst.compose
    assert get(inst.web_port) == "hello v1"

    retag("2", podman_tag.rsplit(":", 1)[1])
    event = app_update_start(user=admin_user, installation=inst)
    seen: dict = {}
    chaos = threading.Thread(target=_restart_engine_once_replaced, args=(podman, app_name, old.id, seen))
    chaos.start()
    app_operation_run(event_id=event.pk)  # the worker's part, here: it meets the engine going away
    chaos.join(timeout=120)
    assert seen.get("new"), "the update never replaced the container; the engine was not restarted"

    event.refresh_from_db()
    inst.refresh_from_db()
    assert event.outcome == Outcome.ROLLED_BACK, (event.outcome, event.message)
    assert "engine does not answer" in event.message and "restored" in event.message
    assert inst.status == S.RUNNING, inst.error
    assert inst.compose == compose_before  # the stored configuration is the old one
    (container,) = podman.list({L.APP: app_name})  # one container: the new one is gone, nothing set aside is left
    assert container.running and container.id == old.id and container.name == old.name  # the old one came back
    assert podman.container_config(container.id)["Image"] == old_image  # by id, although the tag now means v2
    assert get(inst.web_port) == "hello v1"


def _with_command(compose: str) -> str:
    """The test app, with a start that takes a few seconds (the `command` goes under the service's keys)."""
    head, sep, rest = compose.partition("\n    volumes:")
    return head + SLOW_START + sep + rest


def test_an_engine_away_longer_than_the_wait_leaves_the_change_to_the_recovery(
    podman, admin_user, app_name, registry, monkeypatch
):
    from apps.models import AppLock
    from apps.services import reconfigure
    from apps.services.recovery import operation_reconcile
    from apps.services.settings_edit import app_settings_change

    monkeypatch.setattr(reconfigure, "ENGINE_WAIT", 0)  # the engine stays away longer than the change waits
    fixed = web(f"{REGISTRY}/casa/httpd:1").replace("    image:", f"    container_name: {app_name}-web\n    image:")
    inst = install(admin_user, fixed, app_name)
    name = f"{app_name}-web"
    old = podman.inspect(name)
    event = app_settings_change(user=admin_user, installation=inst, compose=_with_command(fixed))
    seen: dict = {}
    chaos = threading.Thread(target=_engine_away_once_replaced, args=(podman, app_name, old.id, seen))
    chaos.start()

    app_operation_run(event_id=event.pk)  # meets the engine gone, and cannot restore: it leaves the app locked
    chaos.join(timeout=120)
    assert seen.get("new"), "the change never made the new container; the engine was not stopped"
    event.refresh_from_db()
    assert event.outcome == Outcome.STARTED and AppLock.objects.filter(installation=inst).exists()

    _engine_start()
    AppLock.objects.filter(installation=inst).update(heartbeat_at=timezone.now() - timedelta(minutes=2))
    assert operation_reconcile(stale_seconds=60) == [app_name]

    event.refresh_from_db()
    inst.refresh_from_db()
    assert event.outcome == Outcome.ROLLED_BACK, event.message
    assert inst.status == S.RUNNING and not AppLock.objects.exists()
    (container,) = podman.list({L.APP: app_name})  # the old container itself, under its fixed name
    assert (container.id, container.name) == (old.id, name) and container.running
    assert get(inst.web_port) == "hello v1"


def _engine_away_once_replaced(eng: runtime.Engine, app: str, old_id: str, seen: dict) -> None:
    """Stop the engine once the change has made the new container (started again by the test, much later)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ids = {c.id for c in eng.list({L.APP: app})} - {old_id}
        if ids:
            seen["new"] = ids
            _engine_stop()
            return
        time.sleep(0.05)
