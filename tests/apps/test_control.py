"""Start, stop, restart, the one-operation-per-app lock, and status following the engine (real Docker)."""

import threading
import time
import urllib.request

import pytest

from apps.models import AppEvent, AppLock, Installation
from apps.selectors import app_state
from apps.services import app_install, app_status_refresh
from apps.services.control import app_control, app_operation_run
from apps.services.operation import AppBusy
from runtime import labels as L
from tests.apps.conftest import BUSYBOX, HTTPD
from tests.apps.conftest import install_running as install

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status

WEB = f"""
services:
  web:
    image: {HTTPD}
    ports: ["127.0.0.1:${{WEBUI_PORT}}:8080"]
    environment:
      GREETING: hi
"""

TWO = f"""
services:
  db:
    image: {BUSYBOX}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
  web:
    image: {HTTPD}
    ports: ["127.0.0.1:${{WEBUI_PORT}}:8080"]
    depends_on: [db]
"""


def operate(admin, inst, action) -> AppEvent:
    event = app_control(user=admin, installation=inst, action=action)
    app_operation_run(event_id=event.pk)
    event.refresh_from_db()
    inst.refresh_from_db()
    return event


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as resp:
            return resp.status == 200
    except OSError:
        return False


def test_it_stops_starts_and_restarts_an_app(docker_engine, admin_user, app_name):
    inst = install(admin_user, TWO, app_name)

    event = operate(admin_user, inst, "stop")
    assert event.outcome == AppEvent.Outcome.DONE, event.message
    assert inst.status == S.STOPPED
    assert not any(c.running for c in docker_engine.list({L.APP: app_name}))
    assert not AppLock.objects.exists()

    event = operate(admin_user, inst, "start")
    assert event.outcome == AppEvent.Outcome.DONE, event.message
    assert inst.status == S.RUNNING and answers(inst.web_port)

    before = {c.name: c.id for c in docker_engine.list({L.APP: app_name})}
    event = operate(admin_user, inst, "restart")
    assert event.outcome == AppEvent.Outcome.DONE, event.message
    assert inst.status == S.RUNNING and answers(inst.web_port)
    assert {c.name: c.id for c in docker_engine.list({L.APP: app_name})} == before  # restarted, not recreated
    assert list(inst.history.values_list("operation", flat=True)) == ["restart", "start", "stop", "install"]


def test_it_refuses_a_second_operation_while_one_runs(docker_engine, admin_user, app_name):
    inst = install(admin_user, WEB, app_name)
    first = app_control(user=admin_user, installation=inst, action="restart")

    with pytest.raises(AppBusy):
        app_control(user=admin_user, installation=inst, action="stop")
    assert AppEvent.objects.filter(installation=inst).exclude(operation="install").count() == 1  # nothing else

    app_operation_run(event_id=first.pk)
    assert operate(admin_user, inst, "stop").outcome == AppEvent.Outcome.DONE


def test_it_refuses_operations_while_installing(admin_user, app_name, docker_engine):
    inst = app_install(user=admin_user, compose=WEB, name=app_name)  # pending, no worker ran it

    with pytest.raises(AppBusy):
        app_control(user=admin_user, installation=inst, action="start")
    assert not AppLock.objects.exists() and not AppEvent.objects.exclude(operation="install").exists()


def test_it_sees_a_container_killed_from_outside(docker_engine, admin_user, app_name):
    inst = install(admin_user, WEB, app_name)
    (web,) = docker_engine.list({L.APP: app_name})

    docker_engine.stop(web.id, timeout=0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and inst.status != S.STOPPED:
        app_status_refresh(eng=docker_engine, name=app_name)  # what the events listener calls per event
        inst.refresh_from_db()
        time.sleep(0.2)
    assert inst.status == S.STOPPED


def test_a_started_app_shows_starting_until_its_web_port_answers(docker_engine, admin_user, app_name):
    slow = WEB.replace(
        "      GREETING: hi\n",
        '      GREETING: hi\n    command: ["sh", "-c", "sleep 4; exec httpd -f -p 8080 -h /www"]\n',
    )
    inst = install(admin_user, slow, app_name)
    assert operate(admin_user, inst, "stop").outcome == AppEvent.Outcome.DONE

    event = app_control(user=admin_user, installation=inst, action="start")
    runner = threading.Thread(target=app_operation_run, kwargs={"event_id": event.pk})
    runner.start()
    deadline = time.monotonic() + 30
    while not any(c.running for c in docker_engine.list({L.APP: app_name})):
        assert time.monotonic() < deadline, "the container did not start"
        time.sleep(0.05)
    app_status_refresh(eng=docker_engine, name=app_name)  # the events listener sees the container run...
    assert Installation.objects.get(pk=inst.pk).status == S.RUNNING
    assert not answers(inst.web_port)  # ...4 s before the app answers
    state = app_state(Installation.objects.get(pk=inst.pk))
    assert (state["status"], state["status_label"]) == ("starting", "Starting")  # the install's rule: not yet
    runner.join(timeout=60)

    assert app_state(Installation.objects.get(pk=inst.pk))["status"] == "running" and answers(inst.web_port)
