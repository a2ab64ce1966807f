"""Cancel, uninstall, and the reconcile that finds installs orphaned by a dead worker."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.permissions import request_stepped_up
from accounts.services import audit_record
from casaos_site.celery import queued_args
from casaos_site.i18n import deferred, deferred_join
from runtime import labels as L
from runtime.errors import EngineError

from ..models import AppEvent, AppLock, Installation
from .cleanup import app_objects_remove, heartbeat
from .common import (
    InstallError,
    app_publish,
    app_publish_flush,
    app_publish_removed,
    app_update,
    engine_for,
    engine_words,
)
from .operation import install_history_close
from .pipeline import app_install_end
from .seed import seed_failed

log = logging.getLogger(__name__)
S = Installation.Status
Outcome = AppEvent.Outcome
QUEUE_GRACE = 10  # seconds from queueing an install to a worker claiming it, at most, when a worker is free


def app_cancel(*, user, installation: Installation, request=None) -> Installation:
    """Ask a running install to stop; it removes what it made and ends `cancelled`."""
    if not installation.in_progress:
        raise InstallError(deferred("Only an install that is still in progress can be cancelled."), code="state")
    audit_record(actor=user, action="app.cancel", request=request, target=installation.name)
    # A queued install that no worker has taken yet ends here; one being worked on sees the flag within a second.
    if Installation.objects.filter(pk=installation.pk, status=S.PENDING).update(
        status=S.CANCELLED, error=deferred("The install was cancelled."), updated_at=timezone.now()
    ):
        install_history_close(
            installation=installation, outcome=Outcome.CANCELLED, message=deferred("The install was cancelled.")
        )
        installation.refresh_from_db()
        app_publish(installation)
        seed_failed(inst=installation, message=installation.error)  # nothing was made yet
        return installation
    return app_update(
        installation, cancel_requested=True, detail=deferred("Cancelling…"), heartbeat_at=installation.heartbeat_at
    )


def app_uninstall(*, user, installation: Installation, delete_data: bool = False, request=None) -> Installation:
    """Queue removal of the app's containers and networks (and its volumes only with delete_data)."""
    from ..tasks import app_uninstall as app_uninstall_task

    if installation.in_progress:
        raise InstallError(deferred("This app is still being installed: cancel the install first."), code="state")
    if AppLock.objects.filter(installation=installation).exists():  # start, update, settings... (services/control)
        raise InstallError(
            deferred("Another operation is running on this app; try again when it has finished."), code="busy"
        )
    if delete_data and (request is None or not request_stepped_up(request)):
        raise InstallError(
            deferred("Confirm your password again (step-up) before deleting an app's data."), code="stepup"
        )
    with transaction.atomic():
        app_update(
            installation,
            status=S.REMOVING,
            delete_data=delete_data,
            detail=deferred("Removing…"),
            error="",
            publish_state=False,
        )
        audit_record(
            actor=user,
            action="app.uninstall",
            request=request,
            target=installation.name,
            details={"delete_data": delete_data},
        )
        transaction.on_commit(lambda: app_uninstall_task.delay(installation.pk))
        transaction.on_commit(lambda: app_publish(installation))
    return installation


def app_uninstall_run(*, installation_id: int) -> bool:
    """Stop and remove the app's engine objects, then its row; True when the app is gone."""
    inst = Installation.objects.filter(pk=installation_id, status=S.REMOVING).first()
    if inst is None:
        return False
    eng = engine_for(inst)
    with heartbeat(inst.pk):
        app_update(inst)
        volumes = [v.name for v in eng.list_volumes({L.APP: inst.name})] if inst.delete_data else []
        problems = app_objects_remove(
            eng=eng, name=inst.name, volumes=volumes, graceful=True, anonymous_volumes=inst.delete_data
        )
    if problems:
        app_update(
            inst,
            status=S.FAILED,
            detail="",
            error=deferred("The app could not be removed completely: %(problems)s", problems="; ".join(problems)),
        )
        return False
    pk = inst.pk
    inst.delete()
    app_publish_removed(pk)
    app_publish_flush()
    return True


def app_reconcile(*, restarted_worker: str = "", worker_started_at: datetime | None = None) -> list[str]:
    """Resume (or, after too many attempts, fail and clean up) installs and removals whose worker is gone, and queue
    again the installs whose queued task was lost.

    `restarted_worker` names a worker that has just started (at `worker_started_at`): whatever it was running
    before is orphaned now. Only what it ran before: this reconcile is itself a task, and by the time it runs the
    new worker, under the same name, may already be running a fresh install that must not be started twice.
    """
    from ..tasks import app_uninstall as app_uninstall_task

    stale = timezone.now() - timedelta(seconds=settings.APPS_STALE_SECONDS)
    orphaned = Q(status__in=Installation.WORKING, heartbeat_at__lt=stale)
    if restarted_worker:
        before_start = Q(heartbeat_at__lt=worker_started_at) if worker_started_at else Q()
        orphaned |= Q(status__in=Installation.WORKING, worker=restarted_worker) & before_start
    handled = [inst.name for inst in Installation.objects.filter(orphaned) if app_install_resume(installation=inst)]
    handled += [inst.name for inst in _lost_in_queue() if _requeue(inst)]
    for inst in Installation.objects.filter(status=S.REMOVING, heartbeat_at__lt=stale):
        app_update(inst)
        app_uninstall_task.delay(inst.pk)
        handled.append(inst.name)
    if handled:
        log.warning("reconcile picked up interrupted apps: %s", ", ".join(handled))
    return handled


def app_install_resume(*, installation: Installation) -> bool:
    """Queue an install whose worker is gone again (or give it up after too many attempts); False if someone else
    took it meanwhile."""
    from ..tasks import app_install as app_install_task

    inst = installation
    if not _release(inst):
        return False
    if inst.attempts >= settings.APPS_MAX_ATTEMPTS:
        _give_up(inst)
    else:
        app_install_task.delay(inst.pk)
    return True


def app_install_lost(*, installation_id: int, worker: str) -> bool:
    """The pool process running this install died (its worker lives on and said so): resume it at once."""
    inst = Installation.objects.filter(pk=installation_id, status__in=Installation.WORKING, worker=worker).first()
    return inst is not None and app_install_resume(installation=inst)


def _lost_in_queue() -> list[Installation]:
    """Queued installs that no worker took and whose task is no longer in the queue (Redis lost it, or it was never
    sent). An install still waiting in the queue for a free worker is left alone, however long it waits."""
    queued = timezone.now() - timedelta(seconds=QUEUE_GRACE)
    pending = list(Installation.objects.filter(Q(heartbeat_at__lt=queued) | Q(heartbeat_at=None), status=S.PENDING))
    if not pending:
        return []
    waiting = queued_args("apps.install")
    if waiting is None:  # the queue cannot be read: only what has waited far too long (a second task is harmless)
        lost = timezone.now() - timedelta(seconds=settings.APPS_STALE_SECONDS * 5)
        return [inst for inst in pending if inst.heartbeat_at is None or inst.heartbeat_at < lost]
    return [inst for inst in pending if (inst.pk,) not in waiting]


def _requeue(inst: Installation) -> bool:
    """Send a lost install's task again (a duplicate finds the install taken and does nothing)."""
    from ..tasks import app_install as app_install_task

    now = timezone.now()
    if not Installation.objects.filter(pk=inst.pk, status=S.PENDING, heartbeat_at=inst.heartbeat_at).update(
        heartbeat_at=now, updated_at=now, detail=deferred("Queued again: the task queue had lost it.")
    ):
        return False
    inst.refresh_from_db()
    app_publish(inst)
    app_install_task.delay(inst.pk)
    return True


def _release(inst: Installation) -> bool:
    """Put an orphaned install back in the queue, unless its state changed since we read it."""
    now = timezone.now()
    released = Installation.objects.filter(pk=inst.pk, status=inst.status, heartbeat_at=inst.heartbeat_at).update(
        status=S.PENDING, heartbeat_at=now, updated_at=now, detail=deferred("Resuming after a restart…")
    )
    if released:
        inst.refresh_from_db()
        app_publish(inst)
    return bool(released)


def _give_up(inst: Installation) -> None:
    """Too many interrupted attempts: clean up and fail, so nothing stays stuck."""
    message = deferred("The install was interrupted %(count)s times and was given up.", count=inst.attempts)
    try:
        app_install_end(installation=inst, eng=engine_for(inst), status=S.FAILED, message=message)
    except EngineError as exc:
        app_update(inst, status=S.FAILED, error=deferred_join(message, engine_words(exc)))
