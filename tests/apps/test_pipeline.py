"""The install pipeline against the real engines (Docker and Podman), images from the loopback registry."""

import socket
import threading
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.models import Installation
from apps.services import (
    InstallError,
    app_cancel,
    app_install,
    app_install_run,
    app_reconcile,
    app_uninstall,
    app_uninstall_run,
)
from casaos_site.i18n import shown
from runtime import labels as L
from runtime.specs import ContainerSpec
from tests.apps.conftest import BUSYBOX, HTTPD, NOTHING, leftovers

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status

WEB = f"""
services:
  web:
    image: {HTTPD}
    ports: ["127.0.0.1:${{WEBUI_PORT}}:8080"]
    environment:
      GREETING: ${{GREETING:-hi}}
      APP: $AppID
    volumes:
      - data:/data
      - ${{DATA_DIR}}:/config
    labels: {{com.example.role: web}}
volumes:
  data: {{}}
"""

THREE = f"""
services:
  db:
    image: {BUSYBOX}
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      timeout: 2s
      retries: 3
  cache:
    image: {BUSYBOX}
    depends_on: [db]
  web:
    image: {HTTPD}
    ports: ["${{WEBUI_PORT}}:8080"]
    depends_on:
      db: {{condition: service_healthy}}
      cache: {{condition: service_started}}
"""


@pytest.fixture(autouse=True)
def files_root_tmp(settings):
    """These installs bind folders under /tmp: there, the admin may write (their files root), so the container
    policy lets the app have them without consent."""
    settings.FILES_ROOT = "/tmp"


def _get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
        return resp.read().decode()


def _install(admin, compose, name, **kwargs) -> Installation:
    inst = app_install(user=admin, compose=compose, name=name, **kwargs)
    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    return inst


def test_it_installs_a_one_service_app(app_engine, admin_user, app_name, tmp_path):
    data_dir = tmp_path / "appdata" / "config"
    inst = _install(admin_user, WEB, app_name, inputs={"GREETING": "hello", "DATA_DIR": str(data_dir)})

    assert inst.status == S.RUNNING, inst.error
    assert inst.progress["percent"] == 100.0
    assert set(inst.progress["timings"]) == {"queued", "pulling", "creating", "starting", "ready"}
    assert _get(inst.web_port).strip() == "hello v1"
    (web,) = app_engine.list({L.APP: app_name})
    assert web.name == f"{app_name}-web-1" and web.running
    assert web.labels[L.PROJECT] == app_name and web.labels[L.SERVICE] == "web"
    assert web.labels["com.example.role"] == "web" and web.labels[L.CONFIG_HASH]
    assert [(p.target, p.host_ip, p.host_port) for p in web.ports] == [(8080, "127.0.0.1", inst.web_port)]
    env = app_engine.exec(web.id, ["env"], tty=False).read_all().decode()
    assert "GREETING=hello" in env and f"APP={app_name}" in env
    assert [v.name for v in app_engine.list_volumes({L.APP: app_name})] == [f"{app_name}_data"]
    assert data_dir.is_dir()  # the bind source was made for it
    assert [n.name for n in app_engine.list_networks({L.APP: app_name})] == [f"{app_name}_default"]

    app_uninstall(user=admin_user, installation=inst)
    assert app_uninstall_run(installation_id=inst.pk)
    assert not Installation.objects.filter(pk=inst.pk).exists()
    # Uninstall keeps the data: the named volume stays, everything else is gone.
    assert leftovers(app_engine, app_name) == {**NOTHING, "volumes": [f"{app_name}_data"]}


def test_it_installs_three_services_in_dependency_order(app_engine, admin_user, app_name, stepped_up):
    # On Podman (no systemd here, so no health-check timers) the pipeline runs db's checks itself.
    inst = _install(admin_user, THREE, app_name)

    assert inst.status == S.RUNNING, inst.error
    containers = {c.labels[L.SERVICE]: c for c in app_engine.list({L.APP: app_name})}
    assert set(containers) == {"db", "cache", "web"}
    assert all(c.running for c in containers.values())
    assert app_engine.inspect(containers["db"].id).health == "healthy"  # Podman 4's list has no health text
    assert _get(inst.web_port).strip() == "hello v1"
    assert "db:service_healthy" in containers["web"].labels[L.DEPENDS_ON]

    app_uninstall(user=admin_user, installation=inst, delete_data=True, request=stepped_up)
    app_uninstall_run(installation_id=inst.pk)
    assert leftovers(app_engine, app_name) == NOTHING


def test_it_fails_cleanly_when_a_health_check_keeps_failing(app_engine, admin_user, app_name):
    compose = THREE.replace('test: ["CMD", "true"]', 'test: ["CMD", "false"]').replace("retries: 3", "retries: 2")
    inst = _install(admin_user, compose, app_name)

    assert inst.status == S.FAILED
    assert "db reports itself unhealthy" in shown(inst.error)  # not the health timeout: the checks did run
    assert inst.progress["stopped_at"] == S.STARTING
    assert leftovers(app_engine, app_name) == NOTHING


def test_it_fails_cleanly_on_an_unknown_image(app_engine, admin_user, app_name):
    compose = WEB.replace(HTTPD, HTTPD.replace("httpd:1", "nope:1"))
    inst = _install(admin_user, compose, app_name, inputs={"DATA_DIR": "/tmp"})

    assert inst.status == S.FAILED
    assert "nope:1" in shown(inst.error) and "not found" in shown(inst.error)
    assert leftovers(app_engine, app_name) == NOTHING


def test_it_fails_cleanly_when_a_container_exits_at_once(app_engine, admin_user, app_name, tmp_path):
    compose = f"""
services:
  job:
    image: {BUSYBOX}
    command: ["sh", "-c", "echo database missing; exit 3"]
    volumes: [state:/state, "{tmp_path}/new/dir:/x"]
volumes:
  state: {{}}
"""
    inst = _install(admin_user, compose, app_name)

    assert inst.status == S.FAILED
    assert "exit code 3" in shown(inst.error) and "database missing" in shown(inst.error)
    assert inst.progress["stopped_at"] == S.STARTING
    assert leftovers(app_engine, app_name) == NOTHING
    assert not (tmp_path / "new").exists()  # the bind folders this attempt made are gone too


def test_it_fails_cleanly_when_its_container_name_is_taken_after_the_request(docker_engine, admin_user, app_name):
    # The first pass does not look for containers of an earlier attempt (there is none); a container made by
    # someone else between the request and the worker is refused by the engine, and left alone.
    inst = app_install(user=admin_user, compose=WEB, name=app_name, inputs={"DATA_DIR": "/tmp"})
    from apps.services import app_project

    taken = app_project(installation=inst).containers[0].name
    docker_engine.pull(HTTPD)
    docker_engine.create(ContainerSpec(name=taken, service="other", image=HTTPD))
    try:
        app_install_run(installation_id=inst.pk)
        inst.refresh_from_db()

        assert inst.status == S.FAILED
        assert taken in shown(inst.error) and "already exists" in shown(inst.error)
        assert leftovers(docker_engine, app_name) == NOTHING
        assert docker_engine.inspect(taken).labels.get(L.APP) is None  # the other container is still there
    finally:
        docker_engine.remove(taken, force=True)


def test_it_refuses_a_taken_port_before_creating_anything(docker_engine, admin_user, app_name):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(InstallError, match=f"tcp/{port} is already in use"):
            app_install(user=admin_user, compose=WEB, name=app_name, inputs={"WEBUI_PORT": port, "DATA_DIR": "/tmp"})

    assert not Installation.objects.exists()
    assert leftovers(docker_engine, app_name) == NOTHING


def test_it_refuses_a_port_claimed_by_another_app(docker_engine, admin_user, app_name):
    first = app_install(user=admin_user, compose=WEB, name=app_name, inputs={"DATA_DIR": "/tmp"})
    with pytest.raises(InstallError, match=f"already used by the app {app_name}"):
        app_install(user=admin_user, compose=WEB, inputs={"WEBUI_PORT": first.web_port, "DATA_DIR": "/tmp"})
    assert Installation.objects.count() == 1


@pytest.mark.parametrize(
    ("compose", "message"),
    [
        ("services: [", "not valid"),
        ("services:\n  a:\n    image: x\n    build: .\n", "build"),
        ("services: {}\n", "at least one service"),
        (f"services:\n  a:\n    image: {BUSYBOX}\n    command: ${{X:?X is required}}\n", "X is required"),
    ],
)
def test_it_refuses_a_bad_compose_document(docker_engine, admin_user, app_name, compose, message):
    with pytest.raises(InstallError, match=message):
        app_install(user=admin_user, compose=compose, name=app_name)
    assert not Installation.objects.exists()


def test_it_refuses_a_taken_name(docker_engine, admin_user, app_name):
    app_install(user=admin_user, compose=WEB, name=app_name, inputs={"DATA_DIR": "/tmp"})
    with pytest.raises(InstallError, match="already used"):
        app_install(user=admin_user, compose=WEB, name=app_name, inputs={"DATA_DIR": "/tmp"})


def test_it_makes_a_derived_name_unique(docker_engine, admin_user):
    compose = f"name: Same.Name\nservices:\n  a:\n    image: {BUSYBOX}\n"
    first = app_install(user=admin_user, compose=compose)
    second = app_install(user=admin_user, compose=compose)
    assert (first.name, second.name) == ("samename", "samename-2")


def test_it_never_lets_compose_read_the_server_environment(docker_engine, admin_user, app_name, monkeypatch):
    monkeypatch.setenv("CASAOS_SECRET_THING", "s3cret")
    compose = f"services:\n  a:\n    image: {BUSYBOX}\n    environment: {{LEAK: '${{CASAOS_SECRET_THING:-none}}'}}\n"
    inst = app_install(user=admin_user, compose=compose, name=app_name)
    from apps.services import app_project

    assert app_project(installation=inst).containers[0].env["LEAK"] == "none"


def test_it_cancels_mid_pull_and_removes_everything(docker_engine, admin_user, app_name, slow_image):
    compose = f"services:\n  web:\n    image: {slow_image}\n    ports: ['${{WEBUI_PORT}}:8080']\n"
    inst = app_install(user=admin_user, compose=compose, name=app_name)
    runner = threading.Thread(target=app_install_run, kwargs={"installation_id": inst.pk})
    runner.start()
    _wait_for(lambda: Installation.objects.get(pk=inst.pk).progress.get("current", 0) > 0)
    app_cancel(user=admin_user, installation=Installation.objects.get(pk=inst.pk))
    runner.join(timeout=60)

    inst.refresh_from_db()
    assert inst.status == S.CANCELLED
    assert "cancelled" in shown(inst.error)
    assert inst.progress["stopped_at"] == S.PULLING
    assert 0 < inst.progress["current"] < inst.progress["total"]  # bytes, not layers: it stopped part-way
    assert leftovers(docker_engine, app_name) == NOTHING
    assert not docker_engine.image_exists(slow_image)


def test_it_reports_byte_progress_per_image(docker_engine, admin_user, app_name, slow_image):
    compose = f"services:\n  web:\n    image: {slow_image}\n    ports: ['${{WEBUI_PORT}}:8080']\n"
    inst = app_install(user=admin_user, compose=compose, name=app_name)
    seen: list[dict] = []
    runner = threading.Thread(target=app_install_run, kwargs={"installation_id": inst.pk})
    runner.start()
    while runner.is_alive():
        seen.append(Installation.objects.get(pk=inst.pk).progress)
        runner.join(timeout=0.3)

    inst.refresh_from_db()
    assert inst.status == S.RUNNING, inst.error
    (image,) = inst.progress["images"]
    assert image["image"] == slow_image and image["done"] and image["total"] > 4_000_000
    partial = [p["current"] for p in seen if p.get("total") and 0 < p["current"] < p["total"]]
    assert len(set(partial)) >= 2  # the bar moved through several byte counts on its way
    assert _get(inst.web_port).strip() == "hello fresh"


def test_it_cancels_a_queued_install_at_once(docker_engine, admin_user, app_name):
    inst = app_install(user=admin_user, compose=WEB, name=app_name, inputs={"DATA_DIR": "/tmp"})
    app_cancel(user=admin_user, installation=inst)
    assert Installation.objects.get(pk=inst.pk).status == S.CANCELLED
    assert app_install_run(installation_id=inst.pk) is None  # the queued task finds nothing to do
    assert leftovers(docker_engine, app_name) == NOTHING


def test_a_second_run_of_the_same_task_does_nothing(docker_engine, admin_user, app_name):
    inst = _install(admin_user, WEB, app_name, inputs={"DATA_DIR": "/tmp"})
    assert inst.status == S.RUNNING
    assert app_install_run(installation_id=inst.pk) is None
    assert Installation.objects.get(pk=inst.pk).attempts == 1


def test_it_resumes_an_install_orphaned_by_a_dead_worker(docker_engine, admin_user, app_name, celery_eager):
    inst = app_install(user=admin_user, compose=THREE, name=app_name)
    # A worker took it, created the network and one container, then died: its heartbeat went stale.
    from apps.services import app_project

    project = app_project(installation=inst)
    docker_engine.create_network(project.networks[0])
    docker_engine.create(project.containers[0])
    old = timezone.now() - timedelta(minutes=5)
    Installation.objects.filter(pk=inst.pk).update(status=S.CREATING, heartbeat_at=old, attempts=1, worker="w@dead")

    celery_eager()
    assert app_reconcile() == [app_name]  # requeued; the eager task runs the pipeline right here

    inst.refresh_from_db()
    assert inst.status == S.RUNNING, inst.error
    assert inst.attempts == 2
    assert len(docker_engine.list({L.APP: app_name})) == 3


def test_a_restarted_worker_resumes_its_own_installs_at_once(docker_engine, admin_user, app_name, celery_eager):
    inst = app_install(user=admin_user, compose=WEB, name=app_name, inputs={"DATA_DIR": "/tmp"})
    Installation.objects.filter(pk=inst.pk).update(status=S.PULLING, heartbeat_at=timezone.now(), worker="w@host")
    assert app_reconcile() == []  # fresh heartbeat, unknown worker: someone may still be on it
    celery_eager()
    assert app_reconcile(restarted_worker="w@host") == [app_name]
    assert Installation.objects.get(pk=inst.pk).status == S.RUNNING


def test_a_restarted_worker_leaves_alone_what_it_took_after_starting(docker_engine, admin_user, app_name):
    # The reconcile a worker queues when it becomes ready is itself a task: by the time it runs, the new worker
    # (same name) may already have claimed a fresh install. Queueing that one again would run it twice at once.
    inst = app_install(user=admin_user, compose=WEB, name=app_name, inputs={"DATA_DIR": "/tmp"})
    ready = timezone.now() - timedelta(seconds=1)
    Installation.objects.filter(pk=inst.pk).update(status=S.PULLING, heartbeat_at=timezone.now(), worker="w@host")
    assert app_reconcile(restarted_worker="w@host", worker_started_at=ready) == []
    assert Installation.objects.get(pk=inst.pk).status == S.PULLING

    # What it was running before it started is orphaned, as before.
    Installation.objects.filter(pk=inst.pk).update(heartbeat_at=ready - timedelta(seconds=5))
    assert app_reconcile(restarted_worker="w@host", worker_started_at=ready) == [app_name]
    assert Installation.objects.get(pk=inst.pk).status == S.PENDING  # released and queued again


def test_it_gives_up_after_too_many_interruptions(docker_engine, admin_user, app_name, settings):
    inst = app_install(user=admin_user, compose=THREE, name=app_name)
    from apps.services import app_project

    docker_engine.create_network(app_project(installation=inst).networks[0])
    old = timezone.now() - timedelta(minutes=5)
    Installation.objects.filter(pk=inst.pk).update(
        status=S.STARTING, heartbeat_at=old, attempts=settings.APPS_MAX_ATTEMPTS
    )
    assert app_reconcile() == [app_name]
    inst.refresh_from_db()
    assert inst.status == S.FAILED and "interrupted" in shown(inst.error)
    assert leftovers(docker_engine, app_name) == NOTHING


def _wait_for(predicate, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_a_worker_process_starts_with_the_engine_down(settings, tmp_path, caplog):
    # Pool processes connect their engine client when they start (apps.tasks); an engine that does not answer
    # then is only logged: the first task connects (and retries) as before.
    from apps import tasks

    settings.ENGINE_URL = f"unix://{tmp_path}/no-engine.sock"
    with caplog.at_level("INFO", logger="apps.tasks"):
        tasks._engine_warm()
    assert "engine not reachable yet" in caplog.text
