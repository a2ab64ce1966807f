"""The engine-events listener keeps an app's status true when its containers change outside our UI."""

import subprocess
import threading
import time

import pytest

from apps.models import Installation
from apps.services import app_events_listen, app_install, app_install_run, app_status_of, app_status_refresh
from apps.services.status import app_health_tick
from casaos_site.i18n import shown
from runtime import ContainerInfo
from runtime import labels as L
from tests.apps.conftest import BUSYBOX

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status


def _c(state: str, *, code: int | None = None, health: str = "", service: str = "a") -> ContainerInfo:
    return ContainerInfo(
        id=service, name=service, image="i", state=state, exit_code=code, health=health, labels={L.SERVICE: service}
    )


def test_status_follows_the_containers():
    assert app_status_of([_c("running")])[0] == S.RUNNING
    assert app_status_of([_c("exited", code=137)])[0] == S.STOPPED
    status, detail = app_status_of([_c("running"), _c("exited", code=1, service="b")])
    assert (status, shown(detail)) == (S.DEGRADED, "Not running: b")
    assert app_status_of([_c("running"), _c("exited", code=0, service="init")])[0] == S.RUNNING  # a finished job
    assert app_status_of([_c("running", health="unhealthy")])[0] == S.DEGRADED
    assert app_status_of([])[0] == S.STOPPED


def test_the_listener_sees_a_container_stopped_and_started_outside(docker_engine, admin_user, app_name):
    compose = f"services:\n  worker:\n    image: {BUSYBOX}\n"
    inst = app_install(user=admin_user, compose=compose, name=app_name)
    app_install_run(installation_id=inst.pk)
    assert Installation.objects.get(pk=inst.pk).status == S.RUNNING

    stop = threading.Event()
    listener = threading.Thread(target=app_events_listen, kwargs={"eng": docker_engine, "stop": stop}, daemon=True)
    listener.start()
    try:
        time.sleep(1)  # let it subscribe
        docker_engine.stop(f"{app_name}-worker-1", timeout=1)
        _wait_status(inst.pk, S.STOPPED)
        docker_engine.start(f"{app_name}-worker-1")
        _wait_status(inst.pk, S.RUNNING)
    finally:
        stop.set()
        listener.join(timeout=10)
    assert not listener.is_alive()


def test_the_listener_sees_a_container_killed_outside(docker_engine, admin_user, app_name):
    # `docker kill` sends only kill and die, and Docker's container list still says "running" when they arrive.
    compose = f"services:\n  worker:\n    image: {BUSYBOX}\n"
    inst = app_install(user=admin_user, compose=compose, name=app_name)
    app_install_run(installation_id=inst.pk)
    assert Installation.objects.get(pk=inst.pk).status == S.RUNNING

    stop = threading.Event()
    listener = threading.Thread(target=app_events_listen, kwargs={"eng": docker_engine, "stop": stop}, daemon=True)
    listener.start()
    try:
        time.sleep(1)  # let it subscribe
        subprocess.run(["docker", "kill", f"{app_name}-worker-1"], check=True, capture_output=True)
        _wait_status(inst.pk, S.STOPPED, timeout=10)
    finally:
        stop.set()
        listener.join(timeout=10)


def _wait_status(pk: int, status: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while Installation.objects.get(pk=pk).status != status:
        assert time.monotonic() < deadline, f"status never became {status}"
        time.sleep(0.1)


def test_podman_health_checks_keep_running_after_the_install(app_engine, admin_user, app_name):
    # Podman without systemd runs no checks: the listener's health round (app_health_tick) runs them, so a
    # service that turns unhealthy makes the app degraded. On Docker the round does nothing; the daemon checks.
    compose = f"""
services:
  db:
    image: {BUSYBOX}
    command: ["sh", "-c", "touch /tmp/ok; exec sleep 3600"]
    healthcheck: {{test: ["CMD-SHELL", "test -f /tmp/ok"], interval: 1s, retries: 1}}
"""
    inst = app_install(user=admin_user, compose=compose, name=app_name)
    app_install_run(installation_id=inst.pk)
    assert Installation.objects.get(pk=inst.pk).status == S.RUNNING, Installation.objects.get(pk=inst.pk).error
    app_engine.exec(f"{app_name}-db-1", ["rm", "/tmp/ok"], tty=False).read_all()

    if app_engine.version().engine == "podman":
        # Other suites' apps on this shared engine are checked too: this one must be among them.
        assert app_name in app_health_tick(eng=app_engine)
    else:
        assert app_health_tick(eng=app_engine) == []
        _wait_for_health(app_engine, f"{app_name}-db-1", "unhealthy")  # the daemon's own next check
        app_status_refresh(eng=app_engine, name=app_name)
    inst.refresh_from_db()
    assert (inst.status, shown(inst.detail)) == (S.DEGRADED, "Unhealthy: db")


def _wait_for_health(eng, ref: str, health: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while eng.inspect(ref).health != health:
        assert time.monotonic() < deadline, f"health never became {health}"
        time.sleep(0.2)
