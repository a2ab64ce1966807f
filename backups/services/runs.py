"""A backup run: queue it, then (in the worker) back each item up as its own snapshot, apply the job's retention,
and record size, duration and downtime. Progress goes to the `backups` group; a failure is a notification."""

import logging
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from casaos_site.events import publish

from ..host import restic as R
from ..models import BackupJob, JobRun, Snapshot
from ..targets import opened

log = logging.getLogger(__name__)
GROUP = "backups"  # the Channels group of the Backups page's socket
RUN_EVENT = "backups.run"
STALE_SECONDS = 1800  # a running run silent this long lost its worker (an app's stop and start take minutes)
PUBLISH_EVERY = 0.5  # seconds between two progress messages of one run
S = JobRun.Status


class RunError(Exception):
    """A run cannot go on; the message says why in words."""


def job_run_queue(*, user, job: BackupJob, request=None) -> JobRun:
    """Queue a backup of the job (refused while one of the same job is queued or running)."""
    from ..tasks import backup_run

    if job.runs.filter(kind=JobRun.Kind.BACKUP, status__in=JobRun.ACTIVE).exists():
        raise RunError("this job is already running")
    run = JobRun.objects.create(job=job, repository=job.repository, requested_by=user)
    audit_record(actor=user, action="backups.run", request=request, target=job.name, details={"run": run.pk})
    transaction.on_commit(lambda: backup_run.delay(run.pk))
    return run


def run_update(run: JobRun, **fields) -> JobRun:
    """Save the fields and tell the page."""
    fields["heartbeat_at"] = timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=list(fields))
    publish(GROUP, RUN_EVENT, run_payload(run))
    return run


def runs_lost(*, stale_seconds: int = STALE_SECONDS) -> int:
    """End the runs whose worker went away (no sign of life for a while): a page must never show one running for
    ever. Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=stale_seconds)
    lost = list(JobRun.objects.filter(status=S.RUNNING, heartbeat_at__lt=cutoff).select_related("job", "repository"))
    for run in lost:
        run_fail(run, "The worker stopped during this run; run it again.")
    return len(lost)


def run_payload(run: JobRun) -> dict:
    return {
        "id": run.pk,
        "kind": run.kind,
        "job": run.job_id,
        "status": run.status,
        "step": run.step,
        "progress": run.progress,
        "size": run.size,
        "error": run.error,
    }


def run_fail(run: JobRun, error: str) -> JobRun:
    """End the run as failed, and tell the admins."""
    from notifications.services import notify

    run_update(run, status=S.FAILED, error=error[:2000], finished_at=timezone.now())
    name = run.job.name if run.job else run.repository.name
    notify(kind="backups.failed", params={"name": name, "error": error[:300]}, subject=name, link="/backups/")
    return run


class Progress:
    """Turns restic's status lines into the run's progress, saved and published at most twice a second."""

    def __init__(self, run: JobRun, item: str) -> None:
        self.run, self.item, self.last = run, item, 0.0

    def __call__(self, p: R.Progress) -> None:
        if time.monotonic() - self.last < PUBLISH_EVERY:
            return
        self.last = time.monotonic()
        progress = {
            "item": self.item,
            "percent": round(p.percent, 1),
            "bytes": p.bytes_done,
            "total_bytes": p.total_bytes,
            "files": p.files_done,
            "total_files": p.total_files,
            "speed": round(p.speed),
        }
        run_update(self.run, progress=progress)


def run_backup(*, run_id: int) -> JobRun:
    """Run a queued backup to its end: every item, then retention; the run row holds the result."""
    from .backup_items import job_items

    run = JobRun.objects.select_related("job", "repository").get(pk=run_id)
    if run.status != S.QUEUED:
        return run
    run_update(run, status=S.RUNNING, started_at=timezone.now(), step="")
    try:
        with opened(run.repository) as target:
            for item in job_items(run.job):
                backup_item(run, target, item)
            _retention(run, target)
    except Exception as exc:  # every failure ends the run visibly; the log keeps the traceback
        log.exception("backup run %s failed", run.pk)
        return run_fail(run, _words(exc))
    run_update(run, status=S.DONE, step="", finished_at=timezone.now())
    return run


def _words(exc: Exception) -> str:
    return str(exc) or exc.__class__.__name__


def backup_item(run: JobRun, target: R.Repo, item) -> None:
    from .repositories import tags_for

    run_update(run, step=item.label)
    tags = tags_for(kind=item.kind, subject=item.subject, job_id=run.job_id)
    with item.held(run.downtime) as paths:
        summary = R.backup(target, paths, tags=tags, on_progress=Progress(run, item.label))
    # The row from what restic just said, not from listing the repository again (a second restic start per item).
    Snapshot.objects.create(
        repository=run.repository,
        restic_id=summary.snapshot_id,
        short_id=summary.snapshot_id[:8],
        time=timezone.now(),
        kind=item.kind,
        subject=item.subject,
        paths=paths,
        tags=tags,
        job=run.job,
        size=summary.data_added,
    )
    run.snapshots = [*run.snapshots, summary.snapshot_id]
    run_update(
        run,
        size=run.size + summary.data_added,
        total_bytes=run.total_bytes + summary.total_bytes,
        files=run.files + summary.total_files,
        downtime=run.downtime,
        snapshots=run.snapshots,
    )


def _retention(run: JobRun, target: R.Repo) -> None:
    """Forget what the job's keep rules no longer keep (each item counted on its own), then prune; their rows go."""
    run_update(run, step="retention")
    removed = R.forget(target, keep=run.job.keep, tags=[f"job:{run.job_id}"])
    Snapshot.objects.filter(repository=run.repository, short_id__in=[r[:8] for r in removed]).delete()
