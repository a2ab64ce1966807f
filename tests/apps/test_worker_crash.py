"""A Celery worker killed (SIGKILL) in the middle of an install: the next worker picks the install up again.

Real processes: a worker subprocess on the test database, its own Redis database as the broker (so no other
worker on this machine can take the task), the Docker engine and a slow registry proxy so the pull is still
running when the worker dies.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
import redis as redis_lib
from celery import Celery

from apps import tasks
from apps.models import AppEvent, AppLock, AppUpdateState, Installation
from apps.services import app_install
from apps.services.settings_edit import app_settings_change
from casaos_site.i18n import shown
from runtime import labels as L
from tests.apps.conftest import HTTPD, NOTHING, leftovers
from tests.conftest import ARTIFACTS, ROOT, _database_url

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
S = Installation.Status
# A broker of this test process's own (settings_test gives each xdist worker one): no live stack listens there.
BROKER = os.environ["CASAOS_TEST_SPARE_REDIS_URL"]


class Worker:
    """`celery worker` as the Procfile runs it, under a fixed name (a restarted worker keeps its name)."""

    def __init__(self, *extra: str) -> None:
        self.extra = extra  # more `celery worker` options (a later --concurrency wins)
        self.name = f"crash-{uuid.uuid4().hex[:8]}@%h"
        self.log_path = ARTIFACTS / f"worker-crash-{uuid.uuid4().hex[:6]}.log"
        self.proc: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test",
            "DATABASE_URL": _database_url(),
            "CASAOS_REDIS_URL": BROKER,
            "CASAOS_WORKER_BACKGROUND": "0",  # no sampler or events listener: these tests watch the pipeline alone
        }

    def start(self) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "casaos_site",
                    "worker",
                    "--loglevel=INFO",
                    "--concurrency=2",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    self.name,
                    *self.extra,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while b"ready." not in self.log_path.read_bytes()[offset:]:
            assert self.proc.poll() is None and time.monotonic() < deadline, f"worker did not start: {self.log_path}"
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the whole process group (the main process and its pool children), as a crash or OOM would."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def worker(redis_client, monkeypatch):
    """A worker on BROKER; installs queued by the services go there too."""
    broker = redis_lib.Redis.from_url(BROKER)
    broker.flushdb()
    # A bare app publishing by task name, exactly as .delay() would. Not the current app: shared tasks resolve
    # to the current app, and every later .delay() in this process would go to this module's broker.
    sender = Celery(broker=BROKER, set_as_current=False)
    monkeypatch.setattr(tasks.app_install, "delay", lambda pk: sender.send_task("apps.install", args=[pk]))
    w = Worker()
    yield w
    w.stop()
    broker.flushdb()  # the killed worker's unacknowledged message must not surface in a later run


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"{what}: not reached within {timeout} s"
        time.sleep(0.1)
    return value


@pytest.mark.parametrize("max_attempts", [3, 1], ids=["resumed", "given-up"])
def test_a_worker_killed_mid_pull_leaves_nothing_stuck(
    worker, docker_engine, admin_user, app_name, slow_image, max_attempts
):
    worker.env["CASAOS_APPS_MAX_ATTEMPTS"] = str(max_attempts)
    worker.start()
    compose = (
        f"services:\n  web:\n    image: {slow_image}\n    ports: ['${{WEBUI_PORT}}:8080']\n"
        "    volumes: [data:/data]\nvolumes:\n  data: {}\n"
    )
    inst = app_install(user=admin_user, compose=compose, name=app_name)

    # The pull trickles in at 1 MiB/s: kill the worker once bytes are moving (network and volume exist by then).
    _wait_for(lambda: Installation.objects.get(pk=inst.pk).progress.get("current", 0) > 0, 60, "pull started")
    worker.kill()
    inst.refresh_from_db()
    assert inst.status == S.PULLING and inst.attempts == 1  # orphaned mid-pull: nobody works on it now
    assert inst.worker.startswith("crash-")
    assert leftovers(docker_engine, app_name) == {
        **NOTHING,
        "networks": [f"{app_name}_default"],
        "volumes": [f"{app_name}_data"],
    }

    worker.start()  # the same worker name comes back (a restart): it reconciles what it had been running

    done = (S.RUNNING, S.FAILED, S.CANCELLED, S.STOPPED)
    inst = _wait_for(
        lambda: Installation.objects.filter(pk=inst.pk, status__in=done).first(),
        180,
        "install settled after the restart",
    )
    if max_attempts > 1:  # resumed where it stopped, and finished
        assert (inst.status, inst.attempts, inst.error) == (S.RUNNING, 2, "")
        (web,) = docker_engine.list({L.APP: app_name})
        assert web.running and web.name == f"{app_name}-web-1"
        with urllib.request.urlopen(f"http://127.0.0.1:{inst.web_port}/", timeout=5) as resp:
            assert resp.read().decode().strip() == "hello fresh"
    else:  # no attempts left: given up cleanly, with nothing of the app left on the engine
        assert inst.status == S.FAILED and "interrupted" in shown(inst.error)
        assert leftovers(docker_engine, app_name) == NOTHING


def test_a_killed_pool_process_has_its_install_resumed_at_once(worker, docker_engine, admin_user, app_name, slow_image):
    # The worker lives on and starts a new pool process; the install must not wait a minute for its heartbeat to
    # go stale, looking alive all that time.
    import psutil

    # The pool that has processes to lose (threads are the default). Celery reads `-P prefork` as "no choice" and
    # takes the configured pool, so the setting chooses it.
    worker.env["CASAOS_WORKER_POOL"] = "prefork"
    worker.start()
    compose = f"services:\n  web:\n    image: {slow_image}\n    ports: ['${{WEBUI_PORT}}:8080']\n"
    inst = app_install(user=admin_user, compose=compose, name=app_name)
    _wait_for(lambda: Installation.objects.get(pk=inst.pk).progress.get("current", 0) > 0, 60, "pull started")

    for child in psutil.Process(worker.proc.pid).children():  # the pool processes (one runs the install)
        child.kill()

    _wait_for(lambda: Installation.objects.filter(pk=inst.pk, attempts=2).exists(), 15, "install resumed")
    done = (S.RUNNING, S.FAILED, S.CANCELLED, S.STOPPED)
    inst = _wait_for(lambda: Installation.objects.filter(pk=inst.pk, status__in=done).first(), 180, "install settled")
    assert (inst.status, inst.attempts, inst.error) == (S.RUNNING, 2, "")


def _fixed_web(name: str, command: str = "") -> str:
    return (
        f"services:\n  web:\n    image: {HTTPD}\n    container_name: {name}-web\n    stop_grace_period: 1s\n"
        f"    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n    volumes: [data:/data]\n{command}volumes:\n  data: {{}}\n"
    )


def test_a_worker_killed_while_a_fixed_name_container_is_replaced_leaves_the_old_one_running(
    worker, docker_engine, admin_user, app_name, monkeypatch
):
    sender = Celery(broker=BROKER, set_as_current=False)
    monkeypatch.setattr(
        tasks.app_operation,
        "apply_async",
        lambda args, queue: sender.send_task(tasks.app_operation.name, args=args, queue=queue),
    )
    worker.env["CASAOS_APPS_STALE_SECONDS"] = "3"  # the restarted worker's own recovery looks 8 s after its start
    worker.start()
    inst = app_install(user=admin_user, compose=_fixed_web(app_name), name=app_name)
    inst = _wait_for(lambda: Installation.objects.filter(pk=inst.pk, status=S.RUNNING).first(), 60, "installed")
    name = f"{app_name}-web"
    old = docker_engine.inspect(name).id
    docker_engine.exec(name, ["sh", "-c", "echo kept > /data/file"], tty=False).read_all()

    # The new configuration takes 30 s to answer: the worker is waiting for it when it is killed.
    slow = "    command: ['sh', '-c', 'sleep 30; exec httpd -f -p 8080 -h /www']\n"
    event = app_settings_change(user=admin_user, installation=inst, compose=_fixed_web(app_name, slow))
    _wait_for(
        lambda: AppUpdateState.objects.filter(installation=inst, snapshot__step__startswith="waiting").exists(),
        60,
        "the new container started",
    )
    worker.kill()
    assert sorted(c.name for c in docker_engine.list({L.APP: app_name})) == [name, L.aside_name(name)]

    worker.start()  # it recovers what the dead one left once the lock is stale

    event = _wait_for(
        lambda: AppEvent.objects.exclude(outcome=AppEvent.Outcome.STARTED).filter(pk=event.pk).first(),
        60,
        "the interrupted change recovered",
    )
    assert event.outcome == AppEvent.Outcome.ROLLED_BACK and "interrupted" in shown(event.message), event.message
    (web,) = docker_engine.list({L.APP: app_name})  # nothing set aside or half-made is left
    assert (web.id, web.name) == (old, name) and docker_engine.inspect(name).running
    assert docker_engine.exec(name, ["cat", "/data/file"], tty=False).read_all().decode().strip() == "kept"
    inst.refresh_from_db()
    assert inst.status == S.RUNNING and not AppLock.objects.exists()
    with urllib.request.urlopen(f"http://127.0.0.1:{inst.web_port}/", timeout=5) as resp:
        assert resp.read().decode().strip() == "hello v1"
