"""One operation per app at a time, enforced by the database, and the history line each operation leaves."""

import contextlib
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from casaos_site.i18n import deferred
from monitoring.counters import counter_add

from ..models import AppEvent, AppLock, Installation
from ..signals import app_operation_ended
from .cleanup import beating
from .common import InstallError, app_publish

log = logging.getLogger(__name__)
S = Installation.Status
LOCK_BEAT_SECONDS = 10
LOCK_STALE = timedelta(minutes=5)  # a lock without a heartbeat this long belonged to a worker that died
INSTALL, RETRY = "install", "retry"  # the history lines of an install and of its retries (no lock: the status is it)


class AppBusy(InstallError):
    """Another operation is running on the app (or it is being installed or removed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="busy")


class OperationPending(Exception):
    """The engine went away half-way through a change: the lock stays, and the recovery finishes or undoes it."""


def operation_begin(
    *, installation: Installation, operation: str, user=None, allowed=Installation.SETTLED, details: dict | None = None
) -> AppEvent:
    """Take the app's lock and open its history line; AppBusy when anything else runs on it.

    Call inside a transaction: the lock row and the queued task commit together.
    """
    inst = installation
    current = Installation.objects.filter(pk=inst.pk).values_list("status", flat=True).first()
    if current is None or current not in allowed:
        raise AppBusy(_busy_message(inst, current))
    # A lock whose worker died is taken over; a live one makes the insert below fail.
    AppLock.objects.filter(installation=inst, heartbeat_at__lt=timezone.now() - LOCK_STALE).delete()
    try:
        with transaction.atomic():
            AppLock.objects.create(installation=inst, operation=operation, user=_user(user))
    except IntegrityError:
        running = AppLock.objects.filter(installation=inst).values_list("operation", flat=True).first() or "?"
        raise AppBusy(
            deferred(
                "%(app)s is busy (%(operation)s is running); try again when it has finished.",
                app=inst,
                operation=running,
            )
        ) from None
    return AppEvent.objects.create(installation=inst, operation=operation, user=_user(user), details=details or {})


def operation_end(*, event: AppEvent, outcome: str, message: str = "", details: dict | None = None) -> AppEvent:
    """Close the history line and release the app's lock."""
    AppEvent.objects.filter(pk=event.pk).update(
        outcome=outcome, message=message[:4000], details={**event.details, **(details or {})}
    )
    event.outcome, event.message = outcome, message
    AppLock.objects.filter(installation_id=event.installation_id).delete()
    _ended(event.installation_id, event.operation, outcome)
    inst = Installation.objects.filter(pk=event.installation_id).first()
    if inst is not None:
        app_publish(inst)
    return event


def install_history_open(*, installation: Installation, user=None, retry: bool = False) -> AppEvent:
    """The history line of an install (or of its retry), closed by install_history_close when it ends."""
    return AppEvent.objects.create(installation=installation, operation=RETRY if retry else INSTALL, user=_user(user))


def install_history_close(*, installation: Installation, outcome: str, message: str = "") -> None:
    """Close the install's open history line with how it ended; an install queued before the history existed gets
    a closed line of its own."""
    open_line = AppEvent.objects.filter(
        installation=installation, operation__in=(INSTALL, RETRY), outcome=AppEvent.Outcome.STARTED
    ).first()  # the newest (the model's ordering)
    counter_add("installs", outcome)
    _ended(installation.pk, INSTALL, outcome)
    if open_line is None:
        AppEvent.objects.create(installation=installation, operation=INSTALL, outcome=outcome, message=message[:4000])
        return
    AppEvent.objects.filter(pk=open_line.pk).update(outcome=outcome, message=message[:4000])


def _ended(installation_id: int, operation: str, outcome: str) -> None:
    app_operation_ended.send(None, installation_id=installation_id, operation=operation, outcome=outcome)


def operation_running(*, installation: Installation) -> str:
    """The operation now running on the app, or ""."""
    return AppLock.objects.filter(installation=installation).values_list("operation", flat=True).first() or ""


def lock_heartbeat(pk: int) -> contextlib.AbstractContextManager[None]:
    """Keep the lock fresh while the operation runs, so only a dead worker's lock ever goes stale."""
    return beating(
        lambda: AppLock.objects.filter(installation_id=pk).update(heartbeat_at=timezone.now()),
        every=LOCK_BEAT_SECONDS,
        name=f"app-{pk}-lock",
    )


def _busy_message(inst: Installation, status: str | None) -> str:
    if status is None:
        return deferred("This app no longer exists.")
    if status in Installation.IN_PROGRESS:
        return deferred("%(app)s is still being installed; wait until it has finished.", app=inst)
    if status == S.REMOVING:
        return deferred("%(app)s is being removed.", app=inst)
    if status in Installation.ENDED:
        return deferred(
            "%(app)s was not installed (%(status)s): retry the install, or remove it.", app=inst, status=_label(status)
        )
    return deferred("%(app)s cannot do that in its current state (%(status)s).", app=inst, status=_label(status))


def _label(status: str) -> str:
    """A status's English label: stored as a parameter, shown() translates it with the message."""
    with translation.override("en"):
        return str(S(status).label)


def _user(user):
    return user if getattr(user, "pk", None) else None
