"""Operations whose worker died: never leave an app half-changed.

An interrupted settings change or update is undone from its snapshot (the old containers set aside are renamed
back; anything else comes back from the previous compose, on the exact image ids), unless its journal says it was
committed (the new containers were healthy): then only the old containers are removed. An interrupted start, stop
or restart just gets its status re-read. The lock is then released, and the history says what happened. Beat runs
this every 20 s; a worker that starts runs it once the dead worker's locks are stale. An operation whose task still
waits in the queue (every worker busy) is late, not interrupted, and is left alone.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from casaos_site.celery import queued_args
from casaos_site.i18n import deferred, deferred_join
from runtime.errors import EngineError, EngineUnavailable

from ..models import AppEvent, AppLock, AppUpdateState
from .common import InstallFailed, engine_for, error_stored
from .control import app_settle
from .operation import operation_end
from .policy import consent_commit
from .reconfigure import snapshot_restore
from .recreate import COMMITTED, asides_remove
from .update import update_done

log = logging.getLogger(__name__)
Outcome = AppEvent.Outcome
CHANGES = ("settings", "update")


def operation_reconcile(*, stale_seconds: int | None = None) -> list[str]:
    """Recover every operation whose lock has had no heartbeat for `stale_seconds`; returns the app names."""
    close_old_connections()
    limit = timezone.now() - timedelta(seconds=stale_seconds or settings.APPS_STALE_SECONDS)
    recovered = []
    locks = list(AppLock.objects.filter(heartbeat_at__lt=limit).select_related("installation"))
    waiting = _still_queued(locks)
    for lock in locks:
        inst = lock.installation
        event = (
            AppEvent.objects.filter(installation=inst, operation=lock.operation, outcome=Outcome.STARTED)
            .order_by("-created_at")
            .first()
        )
        if event is not None and _never_beat(lock) and (event.pk,) in waiting:
            continue  # queued behind busy workers: late, not interrupted
        # Claim it: only one reconcile may work on it (a fresh heartbeat tells the others to keep off).
        if not AppLock.objects.filter(pk=lock.pk, heartbeat_at=lock.heartbeat_at).update(heartbeat_at=timezone.now()):
            continue
        if lock.operation == "uninstall":
            continue  # the pipeline's reconcile resumes removals (status `removing`)
        outcome, message = _recover(inst, lock.operation, event.pk if event else None)
        if event is not None:
            operation_end(event=event, outcome=outcome, message=message)
        else:
            AppLock.objects.filter(pk=lock.pk).delete()
        recovered.append(inst.name)
    if recovered:
        log.warning("recovered interrupted operations of: %s", ", ".join(recovered))
    return recovered


def _still_queued(locks: list[AppLock]) -> set[tuple]:
    """The operations whose task still waits in the queue (read only when a lock never beat: see _never_beat)."""
    if not any(_never_beat(lock) for lock in locks):
        return set()
    return queued_args("apps.operation") or set()


def _never_beat(lock: AppLock) -> bool:
    """No worker ever took this operation's task (one that did beats every few seconds), so it may still be queued."""
    return abs(lock.heartbeat_at - lock.started_at) < timedelta(seconds=1)


def _recover(inst, operation: str, event_id: int | None) -> tuple[str, str]:
    eng = engine_for(inst)
    interrupted = deferred(
        "The %(operation)s was interrupted (its worker or the container engine stopped, or its queued task was lost).",
        operation=operation,
    )
    snapshot = AppUpdateState.objects.filter(installation=inst).values_list("snapshot", flat=True).first()
    try:
        # Only this operation's own snapshot: one taken by an earlier change would undo that change too.
        if operation in CHANGES and snapshot and snapshot.get("event") == event_id:
            outcome, message = _change_recover(inst, eng, operation, snapshot, event_id)
            message = deferred_join(interrupted, message)
        else:
            message, outcome = interrupted, Outcome.FAILED
    except EngineUnavailable:
        raise  # try again at the next run, with the lock still held
    except (InstallFailed, EngineError, ValueError) as exc:
        error = error_stored(exc)
        message = deferred_join(interrupted, deferred("Restoring failed: %(error)s", error=error))
        outcome = Outcome.FAILED
    app_settle(inst, eng, error="" if outcome == Outcome.DONE else message)
    return outcome, message


def _change_recover(inst, eng, operation: str, snapshot: dict, event_id: int | None) -> tuple[str, str]:
    """Finish a committed change (its new containers were healthy), undo any other."""
    step = snapshot.get("step", "")
    if snapshot.get("phase") == COMMITTED:
        asides_remove(inst=inst, eng=eng, snapshot=snapshot)
        details = AppEvent.objects.filter(pk=event_id).values_list("details", flat=True).first() or {}
        consent_commit(inst=inst, record=details.get("consent"))  # the change's consent is the app's now
        if operation == "update":
            update_done(installation=inst)
        return Outcome.DONE, deferred("The new configuration was already running healthy; it was kept.")
    snapshot_restore(inst=inst, eng=eng, snapshot=snapshot)
    return Outcome.ROLLED_BACK, deferred(
        "It stopped while %(step)s; the previous configuration was restored.", step=step or deferred("getting ready")
    )
