"""Snapshots before app updates: the app's data goes to the repository chosen for updates through the same item
backup as a job's run, and comes back from it when the update fails and is rolled back."""

import logging

from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from apps.models import Installation
from apps.services.common import engine_for

from ..appdata import AppDataError, app_data
from ..models import JobRun, Repository, Snapshot
from ..targets import opened
from .runs import S, backup_item, run_fail, run_update

log = logging.getLogger(__name__)


class SnapshotFailed(Exception):
    """The snapshot before an update failed; the update must not go on without it."""


def repository_for_updates(*, user, repository: Repository | None, request=None) -> Repository | None:
    """Make `repository` the one app data goes to before updates (None: no snapshot before updates)."""
    with transaction.atomic():
        Repository.objects.filter(for_updates=True).update(for_updates=False)
        if repository is not None:
            Repository.objects.filter(pk=repository.pk).update(for_updates=True)
    name = repository.name if repository else ""
    audit_record(actor=user, action="backups.repository.for_updates", request=request, target=name)
    return repository


def has_data(inst: Installation) -> bool:
    """Whether the app keeps data in bind folders or named volumes (what a snapshot before an update holds)."""
    try:
        app_data(inst=inst, eng=engine_for(inst))
    except AppDataError:
        return False
    return True


def update_snapshot(*, inst: Installation, user=None) -> Snapshot | None:
    """The app's data backed up before its update; None when it keeps none or no repository is chosen."""
    from .backup_items import Item

    repo = Repository.objects.filter(for_updates=True).first()
    if repo is None or not has_data(inst):
        return None
    run = JobRun.objects.create(repository=repo, requested_by=user, details={"before_update": inst.name})
    audit_record(actor=user, action="backups.before_update", target=inst.name, details={"run": run.pk})
    run_update(run, status=S.RUNNING, started_at=timezone.now())
    try:
        with opened(repo) as target:
            backup_item(run, target, Item(Snapshot.Kind.APP, inst.name, None))
    except Exception as exc:  # the run and the notification say why; the update stops before changing anything
        log.exception("snapshot of %s before its update failed", inst.name)
        raise SnapshotFailed(str(run_fail(run, str(exc) or exc.__class__.__name__).error)) from None
    run_update(run, status=S.DONE, step="", finished_at=timezone.now())
    return Snapshot.objects.get(repository=repo, restic_id=run.snapshots[-1])


def update_data_restore(*, snapshot: Snapshot, user=None) -> JobRun:
    """Put the app's data back as the snapshot before the failed update has it (a restore run of its own)."""
    from .restore import restore_run

    details = {"snapshot": snapshot.pk, "paths": [], "target": "", "after_failed_update": snapshot.subject}
    run = JobRun.objects.create(
        kind=JobRun.Kind.RESTORE, repository=snapshot.repository, requested_by=user, details=details
    )
    audit_record(actor=user, action="backups.restore", target=snapshot.short_id, details=details)
    return restore_run(run_id=run.pk)
