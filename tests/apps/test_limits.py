"""Limits on a real engine (Docker and Podman): the default process limit as the engine's inspect data shows it, and
a crashing container with `restart: always` halted, reported and started again; the override box on the pages."""

import subprocess
import threading
import time

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from apps.models import AppEvent, Installation
from apps.selectors import app_state
from apps.services import app_events_listen
from apps.services.control import app_control, app_operation_run
from casaos_site.i18n import shown
from tests.apps.conftest import BUSYBOX, ENGINES
from tests.apps.conftest import install_running as install

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

# Runs long enough for the install to see it up, then crashes at once on every restart, until /fixed exists.
CRASHING = f"""
services:
  worker:
    image: {BUSYBOX}
    restart: always
    stop_grace_period: 1s
    command:
      - sh
      - -c
      - if [ -f /fixed ]; then exec sleep 3600; fi; if [ -f /tmp/ran ]; then echo boom; exit 3; fi; touch /tmp/ran; sleep 4; exit 3
"""


def _pids_limit(eng, container: str) -> int | None:
    return eng.container_config(container)["HostConfig"].get("PidsLimit")


def test_a_container_without_a_pids_limit_gets_the_default(app_engine, admin_user, app_name, settings):
    compose = (
        f"services:\n  plain:\n    image: {BUSYBOX}\n  own:\n    image: {BUSYBOX}\n    pids_limit: 100\n"
        f"  other:\n    image: {BUSYBOX}\n    deploy: {{resources: {{limits: {{pids: 200}}}}}}\n"
    )
    install(admin_user, compose, app_name)
    assert _pids_limit(app_engine, f"{app_name}-plain-1") == 4096
    assert _pids_limit(app_engine, f"{app_name}-own-1") == 100
    assert _pids_limit(app_engine, f"{app_name}-other-1") == 200


def test_the_default_pids_limit_is_a_setting(app_engine, admin_user, app_name, settings):
    settings.APPS_PIDS_LIMIT = 512
    install(admin_user, f"services:\n  plain:\n    image: {BUSYBOX}\n", app_name)
    assert _pids_limit(app_engine, f"{app_name}-plain-1") == 512


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout}s"
        time.sleep(0.2)
    return value


def _policy(eng, container: str) -> str:
    return eng.container_config(container)["HostConfig"]["RestartPolicy"]["Name"]


def test_a_restart_loop_is_halted_reported_and_started_again(app_engine, admin_user, app_name, settings):
    settings.APPS_RESTART_LOOP_COUNT = 3
    container = f"{app_name}-worker-1"
    inst = install(admin_user, CRASHING, app_name)
    stop = threading.Event()
    listener = threading.Thread(target=app_events_listen, kwargs={"eng": app_engine, "stop": stop}, daemon=True)
    listener.start()
    try:
        _wait(lambda: Installation.objects.get(pk=inst.pk).restart_loop, 90, "the loop's detection")
        inst = _wait(lambda: _stopped_with_detail(inst.pk), 20, "the status line")
        # Halted, and it stays down: nothing brings it back (Docker: its policy is "no" now; Podman 4 cannot change
        # a policy in place, and a stop by us holds there).
        assert app_engine.inspect(container).state not in ("running", "restarting")
        count = app_engine.container_config(container)["RestartCount"]
        time.sleep(3)
        assert app_engine.inspect(container).state not in ("running", "restarting")
        assert app_engine.container_config(container)["RestartCount"] == count
        if app_engine.version().engine == "docker":
            assert _policy(app_engine, container) == "no"
        (loop,) = app_state(inst)["restart_loop"]
        assert (loop["service"], loop["exit_code"], loop["log"]) == ("worker", 3, "boom") and loop["restarts"] >= 3
        assert "Restarting repeatedly: worker exited with code 3 (boom)" in shown(inst.detail)
        assert AppEvent.objects.filter(installation=inst, operation="restart_loop", outcome="failed").count() == 1

        # The documented way back: fix the cause, then start the app. Its restart policy is as the compose says again.
        _copy_into(app_engine, container, "/fixed")
        event = app_control(user=admin_user, installation=inst, action="start")
        app_operation_run(event_id=event.pk)
        event.refresh_from_db()
        inst.refresh_from_db()
        assert event.outcome == "done", event.message
        assert (
            inst.status == Installation.Status.RUNNING
            and inst.restart_loop == {}
            and app_state(inst)["restart_loop"] == []
        )
        assert _policy(app_engine, container) == "always"
        assert app_engine.inspect(container).running
    finally:
        stop.set()
        listener.join(timeout=15)


def _stopped_with_detail(pk: int) -> Installation | None:
    inst = Installation.objects.get(pk=pk)
    return inst if inst.status == Installation.Status.STOPPED and "Restarting repeatedly" in inst.detail else None


def _copy_into(eng, container: str, path: str) -> None:
    """docker cp a marker file into the (stopped) container, with the engine's own CLI."""
    url = next(u for u in ENGINES.values() if u == eng.url)
    subprocess.run(
        ["docker", "cp", "/etc/hostname", f"{container}:{path}"],
        check=True,
        env={"DOCKER_HOST": url, "PATH": "/usr/bin:/bin"},
    )


def test_a_person_restarting_an_app_by_hand_is_no_loop(docker_engine, admin_user, app_name, settings):
    settings.APPS_RESTART_LOOP_COUNT = 2
    inst = install(
        admin_user,
        f"services:\n  web:\n    image: {BUSYBOX}\n    restart: always\n    stop_grace_period: 1s\n",
        app_name,
    )
    stop = threading.Event()
    listener = threading.Thread(target=app_events_listen, kwargs={"eng": docker_engine, "stop": stop}, daemon=True)
    listener.start()
    try:
        time.sleep(1)
        for _ in range(4):  # each a death, but a start by hand: the engine's restart count stays 0
            docker_engine.restart(f"{app_name}-web-1", timeout=1)
        time.sleep(2)
        inst.refresh_from_db()
        assert inst.restart_loop == {} and docker_engine.inspect(f"{app_name}-web-1").running
    finally:
        stop.set()
        listener.join(timeout=15)


# ---------------------------------------------------------------------------- the pages
def test_the_install_page_offers_the_override_to_an_admin_and_it_is_audited(docker_engine, admin_user, app_name):
    client = Client()
    client.force_login(admin_user)
    compose = f"services:\n  web:\n    image: {BUSYBOX}\n    pids_limit: -1\n"
    refused = client.post(reverse("app-install"), {"compose": compose, "name": app_name})
    page = refused.content.decode()
    assert refused.status_code == 200 and "more than this machine has" in page and 'name="override_limits"' in page
    assert not Installation.objects.exists()
    done = client.post(reverse("app-install"), {"compose": compose, "name": app_name, "override_limits": "on"})
    assert done.status_code == 302
    (entry,) = AuditEvent.objects.filter(action="app.limits_override")
    assert entry.target == app_name and "services.web.pids_limit: -1" in entry.details["limits"]


def test_a_member_is_never_offered_the_override(docker_engine, installer_user, app_name):
    client = Client()
    client.force_login(installer_user)
    compose = f"services:\n  web:\n    image: {BUSYBOX}\n    shm_size: 100t\n"
    page = client.post(reverse("app-install"), {"compose": compose, "name": app_name, "override_limits": "on"})
    text = page.content.decode()
    assert "Only an administrator can allow" in text and 'name="override_limits"' not in text
    assert not Installation.objects.exists() and not AuditEvent.objects.filter(action="app.limits_override").exists()


def test_the_apps_page_and_the_app_page_say_restarting_repeatedly(admin_user, member_user, db):
    from apps.models import AppGrant

    loop = {"exit_code": 3, "log": "boom <script>", "restarts": 6, "at": "2026-01-01T00:00:00+00:00"}
    inst = Installation.objects.create(
        name="looping",
        compose=f"services:\n  worker:\n    image: {BUSYBOX}\n",
        status=Installation.Status.STOPPED,
        detail="Restarting repeatedly: worker exited with code 3 (boom <script>). Stopped; start the app to try again.",
        restart_loop={"worker": loop},
    )
    AppGrant.objects.create(installation=inst, user=member_user)
    for user in (admin_user, member_user):  # a member the app is granted to sees it too
        client = Client()
        client.force_login(user)
        tiles = client.get(reverse("apps")).content.decode()
        assert "Restarting repeatedly" in tiles and "worker exited with code 3" in tiles
        assert "boom &lt;script&gt;" in tiles and "<script>" not in tiles.split("boom")[1][:20]
        card = client.get(reverse("app-manage", args=[inst.pk])).content.decode()
        assert 'id="restart-loop"' in card and "exited with code 3 after 6 restarts" in card
        assert "<code>boom &lt;script&gt;</code>" in card and "boom <script>" not in card
        api = client.get(reverse("api-app-detail", args=[inst.pk])).json()
        assert api["restart_loop"] == [{"service": "worker", **loop}]


# ---------------------------------------------------------------------------- adopting a container
def test_an_adopted_container_is_described_with_its_limits_and_none_for_unlimited():
    from apps.services.foreign import describe

    raw = {"Config": {"Image": BUSYBOX}, "HostConfig": {"Memory": 256 * 1024**2, "NanoCpus": 1_500_000_000}}
    svc = describe(raw, service="hand")["services"]["hand"]
    assert (svc["mem_limit"], svc["cpus"]) == (256 * 1024**2, 1.5) and "pids_limit" not in svc
    unlimited = {"Config": {"Image": BUSYBOX}, "HostConfig": {"Memory": 0, "PidsLimit": -1, "NanoCpus": 0}}
    assert not {"mem_limit", "pids_limit", "cpus"} & set(describe(unlimited, service="hand")["services"]["hand"])


def test_adopting_a_container_over_the_machine_offers_the_admin_the_override(docker_engine, admin_user, app_name):
    import runtime
    from runtime.specs import ContainerSpec

    hand = runtime.get_engine(docker_engine.url, pids_limit=0)
    cid = hand.create(
        ContainerSpec(name=f"{app_name}-hand", image=BUSYBOX, command=("sleep", "600"), pids_limit=100_000)
    )
    try:
        client = Client()
        client.force_login(admin_user)
        url = reverse("apps-container-adopt", args=[cid[:12]])
        refused = client.post(url, {"name": app_name}, follow=True).content.decode()
        assert "pids_limit: 100000 is not a process limit" in refused and 'name="override_limits"' in refused
        assert not Installation.objects.filter(name=app_name).exists()
        done = client.post(url, {"name": app_name, "override_limits": "on"})
        assert done.status_code == 302 and Installation.objects.filter(name=app_name).exists()
        (entry,) = AuditEvent.objects.filter(action="app.limits_override", target=app_name)
        assert f"services.{app_name}-hand.pids_limit: 100000" in entry.details["limits"]
    finally:
        docker_engine.remove(cid, force=True)


def test_the_settings_page_offers_the_override_once_a_request_is_over_the_machine(docker_engine, admin_user, app_name):
    from apps.forms import SettingsForm
    from apps.services.settings_edit import service_settings

    compose = f"services:\n  web:\n    image: {BUSYBOX}\n"
    inst = Installation.objects.create(name=app_name, compose=compose, status=Installation.Status.RUNNING)
    shown = SettingsForm(services=service_settings(compose), compose=compose)
    data = {name: shown[name].initial or "" for name in shown.fields if name not in ("consent", "override_limits")}
    client = Client()
    client.force_login(admin_user)
    url = reverse("app-settings", args=[inst.pk])
    page = client.post(url, {**data, "web__memory": "100g"}).content.decode()
    assert "services.web.mem_limit: 100 GiB is more than this machine" in page and 'name="override_limits"' in page
    assert not AppEvent.objects.filter(installation=inst).exists()
    assert 'name="override_limits"' not in client.get(url).content.decode()  # offered only once it is needed

    done = client.post(url, {**data, "web__memory": "100g", "override_limits": "on"})
    assert done.status_code == 302 and AppEvent.objects.filter(installation=inst, operation="settings").exists()
    (entry,) = AuditEvent.objects.filter(action="app.limits_override", target=app_name)
    assert "services.web.mem_limit: 100 GiB" in entry.details["limits"]


def test_the_install_page_says_why_an_image_or_a_request_is_refused(docker_engine, admin_user, app_name):
    client = Client()
    client.force_login(admin_user)
    url = reverse("app-install")
    bad = client.post(url, {"compose": "services:\n  web:\n    image: 'nginx; id'\n", "name": app_name})
    text = bad.content.decode()
    assert bad.status_code == 200 and "services.web.image: &#x27;nginx; id&#x27; is not a valid image reference" in text
    assert 'name="override_limits"' not in text  # no override for the grammar

    over = client.post(url, {"compose": f"services:\n  web:\n    image: {BUSYBOX}\n    cpus: 9999\n", "name": app_name})
    assert "cpus: 9999 CPUs is more than this machine has" in over.content.decode()
    assert 'name="override_limits"' in over.content.decode() and not Installation.objects.exists()
