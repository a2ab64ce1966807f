"""Redis loses the task queue (flushed, or restarted without persistence) while installs wait in it: the reconcile
queues each of them again, and a worker then runs them. Installs still waiting in the queue are left alone.

Real processes: the installs are queued in this module's own Redis database (no other worker listens there), the
queue is emptied with FLUSHDB, and a Celery worker subprocess runs what the reconcile queued again.
"""

import contextlib
import time
from datetime import timedelta

import pytest
import redis as redis_lib
from celery import Celery
from django.utils import timezone

import runtime
from apps import tasks
from apps.models import AppEvent, AppLock, Installation
from apps.services import app_install, app_reconcile, lifecycle, recovery
from apps.services.control import app_control
from apps.services.uninstall import app_remove
from casaos_site.celery import queued_args
from casaos_site.i18n import shown
from tests.apps.conftest import ENGINES, HTTPD, wipe
from tests.apps.test_worker_crash import BROKER, Worker

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
S = Installation.Status
WEB = f"services:\n  web:\n    image: {HTTPD}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"


@pytest.fixture
def broker(monkeypatch, redis_client):
    """Installs are queued in BROKER, and the reconcile reads that queue."""
    client = redis_lib.Redis.from_url(BROKER)
    client.flushdb()
    # Not the current app: shared tasks resolve to the current app (see tests/apps/test_worker_crash.py).
    sender = Celery(broker=BROKER, set_as_current=False)
    monkeypatch.setattr(tasks.app_install, "delay", lambda pk: sender.send_task("apps.install", args=[pk]))
    monkeypatch.setattr(
        tasks.app_operation,
        "apply_async",
        lambda args, queue: sender.send_task(tasks.app_operation.name, args=args, queue=queue),
    )
    for module in (lifecycle, recovery):
        monkeypatch.setattr(module, "queued_args", lambda name: queued_args(name, celery_app=sender))
    yield client
    client.flushdb()


@pytest.fixture
def names(app_name):
    """Three unique app names, wiped from both engines afterwards."""
    chosen = [f"{app_name}-{i}" for i in range(3)]
    yield chosen
    for url in ENGINES.values():
        for name in chosen:
            with contextlib.suppress(runtime.EngineError):
                wipe(runtime.get_engine(url), name)


def _queued_a_while_ago(*pks: int) -> None:
    """As if they had waited in the queue for half a minute (a worker busy elsewhere)."""
    Installation.objects.filter(pk__in=pks).update(heartbeat_at=timezone.now() - timedelta(seconds=30))


def test_installs_whose_queued_task_was_lost_are_queued_again_and_then_run(broker, docker_engine, admin_user, names):
    installs = [app_install(user=admin_user, compose=WEB, name=name) for name in names]
    pks = [inst.pk for inst in installs]
    _queued_a_while_ago(*pks)

    assert app_reconcile() == []  # still in the queue: waiting for a worker is not lost
    assert broker.llen("celery") == 3

    broker.flushdb()  # Redis lost its data
    assert sorted(app_reconcile()) == sorted(names)  # the next reconcile (beat: every 20 s) queues them again
    assert {(pk,) for pk in pks} <= queued_args("apps.install", celery_app=Celery(broker=BROKER, set_as_current=False))
    for inst in Installation.objects.filter(pk__in=pks):
        assert (inst.status, inst.attempts) == (S.PENDING, 0)
        assert "lost" in shown(inst.detail)  # the page says why it is queued again
    assert app_reconcile() == []  # queued once, not once per reconcile

    worker = Worker()
    worker.start()
    try:
        deadline = time.monotonic() + 120
        while Installation.objects.filter(pk__in=pks, status=S.RUNNING).count() < 3:
            failed = Installation.objects.filter(pk__in=pks, status=S.FAILED).first()
            assert failed is None, failed.error
            assert time.monotonic() < deadline, "the queued-again installs did not run"
            time.sleep(0.2)
    finally:
        worker.stop()
    assert set(Installation.objects.filter(pk__in=pks).values_list("attempts", flat=True)) == {1}


def test_an_uninstall_waiting_in_the_long_queue_is_late_not_interrupted(broker, docker_engine, admin_user, app_name):
    inst = Installation.objects.create(name=app_name, compose=WEB, status=S.STOPPED)
    event = app_remove(user=admin_user, installation=inst)
    assert broker.llen("long") == 1  # an uninstall is a long operation: its own queue, read by the reconcile too
    queued = timezone.now() - timedelta(minutes=2)
    AppLock.objects.filter(installation=inst).update(started_at=queued, heartbeat_at=queued)

    assert recovery.operation_reconcile() == []
    event.refresh_from_db()
    assert event.outcome == AppEvent.Outcome.STARTED


def test_an_operation_waiting_in_the_queue_is_late_not_interrupted(broker, docker_engine, admin_user, app_name):
    inst = Installation.objects.create(name=app_name, compose=WEB, status=S.STOPPED)
    event = app_control(user=admin_user, installation=inst, action="start")
    assert broker.llen("celery") == 1
    queued = timezone.now() - timedelta(minutes=2)  # every worker has been busy since: nobody took it yet
    AppLock.objects.filter(installation=inst).update(started_at=queued, heartbeat_at=queued)

    assert recovery.operation_reconcile() == []  # its task still waits in the queue
    event.refresh_from_db()
    assert event.outcome == AppEvent.Outcome.STARTED

    broker.flushdb()  # now it is lost: the app must not stay locked
    assert recovery.operation_reconcile() == [app_name]
    event.refresh_from_db()
    assert event.outcome == AppEvent.Outcome.FAILED and "queued task was lost" in shown(event.message)
    assert not AppLock.objects.filter(installation=inst).exists()
