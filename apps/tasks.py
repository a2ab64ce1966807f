"""Celery tasks of the apps feature: each looks the row up by id and calls a service."""

import logging
import threading

from billiard.exceptions import WorkerLostError
from celery import shared_task
from celery.signals import task_failure, worker_init, worker_process_init, worker_ready
from django.conf import settings
from django.db import connection
from django.utils import timezone

from runtime.errors import EngineError, EngineUnavailable

log = logging.getLogger(__name__)


# No automatic retry: the pipeline waits out an engine outage itself (a retry would count as an interruption).
@shared_task(bind=True, name="apps.install")
def app_install(self, installation_id: int) -> None:
    """Run (or resume) one install."""
    from .services import app_install_run

    app_install_run(installation_id=installation_id, worker=self.request.hostname or "")


@shared_task(name="apps.uninstall", autoretry_for=(EngineUnavailable,), retry_backoff=5, max_retries=5)
def app_uninstall(installation_id: int) -> None:
    """Remove one app's engine objects and its row."""
    from .services import app_uninstall_run

    app_uninstall_run(installation_id=installation_id)


@shared_task(name="apps.reconcile")
def app_reconcile(restarted_worker: str = "", worker_started_at: str = "") -> list[str]:
    """Pick up installs and removals whose worker died, and installs whose queued task was lost (beat: every 20 s)."""
    from django.utils.dateparse import parse_datetime

    from .services import app_reconcile as reconcile

    started = parse_datetime(worker_started_at) if worker_started_at else None
    return reconcile(restarted_worker=restarted_worker, worker_started_at=started)


@worker_init.connect
def _import_engine_client(**kwargs) -> None:
    # Import docker-py once in the parent, before the pool forks: every child inherits it instead of paying the
    # import on its first install (docker.py is imported only when an engine is really wanted).
    import runtime.docker  # noqa: F401

    global _started_at
    _started_at = timezone.now()  # before this worker took anything: what its name ran before this is orphaned


_started_at = None


@worker_ready.connect
def _reconcile_at_start(sender=None, **kwargs) -> None:
    # This worker was just (re)started: what it ran before is orphaned now. Reconciled here, not queued: a queued
    # reconcile would wait behind every install in the queue, and those installs would look alive all that time.
    # Installs of other dead workers become stale a minute later, so look once more then (beat also looks).
    from .services import app_reconcile as reconcile

    hostname = getattr(sender, "hostname", "") or ""
    try:
        reconcile(restarted_worker=hostname, worker_started_at=_started_at or timezone.now())
    except Exception:
        log.exception("reconcile at worker start failed; beat runs it again shortly")
    finally:
        connection.close()  # the main process keeps no database connection of its own
    app_reconcile.apply_async(countdown=settings.APPS_STALE_SECONDS + 5)
    # Operations' locks do not name a worker: theirs become stale a minute later too (a machine that just rebooted
    # should not wait for beat).
    app_operation_reconcile.apply_async(countdown=settings.APPS_STALE_SECONDS + 5)


@task_failure.connect
def _install_worker_lost(sender=None, exception=None, args=None, **kwargs) -> None:
    # The pool process running an install died (killed, out of memory); the worker's main process says so here.
    # Resume it now: its heartbeat would take a minute to go stale, and the page would show it alive meanwhile.
    if getattr(sender, "name", "") != "apps.install" or not isinstance(exception, WorkerLostError) or not args:
        return
    from .services.lifecycle import app_install_lost

    try:
        app_install_lost(installation_id=args[0], worker=getattr(sender.request, "hostname", "") or "")
    finally:
        connection.close()


@worker_process_init.connect
def _warm_engine_client(**kwargs) -> None:
    # Each pool process negotiates the API version and opens its engine socket now, not on the critical path
    # of the first install it gets (~30 ms). In a thread: a dead engine must not hold up the process start.
    threading.Thread(target=_engine_warm, name="engine-warm", daemon=True).start()


def _engine_warm() -> None:
    from .services.common import engine

    try:
        engine().version()
    except EngineError as exc:
        log.info("engine not reachable yet (%s); the first task will connect", exc.message)


# ---------------------------------------------------------------------------- after the install (issue 6)
@shared_task(name="apps.operation")
def app_operation(event_id: int) -> None:
    """Run one queued operation on an installed app (start, stop, restart, settings, update, uninstall)."""
    from .services.control import app_operation_run

    app_operation_run(event_id=event_id)


@shared_task(name="apps.update_check")
def app_update_check_all(force: bool = False) -> list[str]:
    """Look for updates of every app (beat runs this periodically; results are cached per app)."""
    from .services.update import app_update_check_all as check_all

    return check_all(force=force)


@shared_task(name="apps.operation_reconcile")
def app_operation_reconcile() -> list[str]:
    """Undo settings changes and updates whose worker died; release their locks (beat runs this every minute)."""
    from .services.recovery import operation_reconcile

    return operation_reconcile()
