"""Sync jobs: a folder of a remote kept alike with a local folder, one way (`rclone sync`) or both (`rclone bisync`).

A run is a Celery task; rclone's JSON stats (one line a second) become the run's progress in the database and
events on the remotes group; a failure tells the admins (notification rule `remotes.sync_failed`). A job's schedule
is a cron expression read by celery's crontab; one beat task a minute starts the jobs due in that minute.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from celery.schedules import crontab
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.services.audit import audit_record
from casaos_site.events import publish
from casaos_site.i18n import deferred, shown
from storage.host.errors import HostError

from .backends import RemoteRefused, _path
from .host import rclone
from .models import Remote, SyncJob, SyncRun
from .services import rclone_remote, scrub

SYNC_EVENT = "remotes.sync"
PUBLISH_EVERY = 0.5  # seconds between progress events (rclone writes stats every second)


# ---------------------------------------------------------------------------- schedules
def parse_schedule(text: str) -> crontab | None:
    """A five-field cron expression ("m h dom mon dow") as celery's crontab; "" is no schedule."""
    fields = (text or "").split()
    if not fields:
        return None
    if len(fields) != 5:
        raise RemoteRefused(deferred("A schedule has five fields: minute hour day month weekday."))
    try:
        return crontab(*fields[:2], day_of_month=fields[2], month_of_year=fields[3], day_of_week=fields[4])
    except (ValueError, TypeError) as exc:
        raise RemoteRefused(deferred("This schedule cannot be read: %(error)s", error=str(exc))) from None


def is_due(job: SyncJob, now) -> bool:
    """Whether the job's schedule names this minute and it has not started in it yet."""
    schedule = parse_schedule(job.schedule)
    if schedule is None or not job.enabled:
        return False
    local = timezone.localtime(now)
    minute = local.replace(second=0, microsecond=0)
    if job.last_started and timezone.localtime(job.last_started) >= minute:
        return False
    weekday = local.isoweekday() % 7  # cron and celery: Sunday is 0
    return (
        local.minute in schedule.minute
        and local.hour in schedule.hour
        and local.day in schedule.day_of_month
        and local.month in schedule.month_of_year
        and weekday in schedule.day_of_week
    )


def sync_due(now=None) -> list[int]:
    """Start every job due now (the beat task, once a minute); returns the runs' ids."""
    now = now or timezone.now()
    return [sync_start(job=job, user=None).pk for job in SyncJob.objects.select_related("remote") if is_due(job, now)]


# ---------------------------------------------------------------------------- jobs
def _local_real(user, view_path: str) -> Path:
    """The local folder as the file manager resolves it for an admin (never outside the roots)."""
    from files.paths import PathError, resolve

    if user is None or not user.is_admin:
        raise RemoteRefused(deferred("Only an administrator's job can sync."), status=403)
    try:
        target = resolve(user, view_path)
    except PathError as exc:
        raise RemoteRefused(exc.stored, status=exc.status) from None
    if not target.is_dir():
        raise RemoteRefused(deferred("The local folder must be a folder."))
    return target.real


def sync_create(*, user, remote: Remote, remote_path: str, local_path: str, direction: str, schedule: str = "",
                request=None) -> SyncJob:  # fmt: skip
    """Record a sync job after checking both folders and the schedule."""
    if direction not in SyncJob.Direction.values:
        raise RemoteRefused(deferred("Direction is pull, push or both."))
    if remote.kind == Remote.Kind.NFS:
        raise RemoteRefused(deferred("NFS exports are synced through their mounted folder, not as a remote."))
    parse_schedule(schedule)
    _local_real(user, local_path)
    job = SyncJob.objects.create(remote=remote, remote_path=_path("remote_path", remote_path or ""),
                                 local_path=local_path, direction=direction, schedule=schedule.strip(),
                                 created_by=user)  # fmt: skip
    audit_record(actor=user, action="remotes.sync_create", request=request, target=str(job),
                 details={"direction": direction, "schedule": job.schedule})  # fmt: skip
    return job


def sync_delete(*, user, job: SyncJob, request=None) -> None:
    audit_record(actor=user, action="remotes.sync_delete", request=request, target=str(job))
    shutil.rmtree(_workdir(job), ignore_errors=True)
    job.delete()


def sync_start(*, job: SyncJob, user=None, request=None) -> SyncRun:
    """Queue one run of the job (once the row is committed)."""
    from .tasks import sync_run as sync_run_task

    job.last_started = timezone.now()
    job.save(update_fields=["last_started"])
    run = SyncRun.objects.create(job=job)
    audit_record(actor=user, action="remotes.sync_start", request=request, target=str(job), details={"run": run.pk})
    transaction.on_commit(lambda: sync_run_task.delay(run.pk))
    return run


# ---------------------------------------------------------------------------- a run
def _workdir(job: SyncJob) -> Path:
    """bisync's listings of this job (beside the configs); named by its creation too, so a job made later with a
    reused id never starts from another's listings."""
    return Path(settings.REMOTES_CONFIG_DIR).parent / "bisync" / f"{job.pk}-{int(job.created_at.timestamp())}"


def _argv(job: SyncJob) -> list[str]:
    local = _local_real(job.created_by, job.local_path)
    remote = rclone_remote(job.remote, job.remote_path)
    workdir = _workdir(job)
    first = not workdir.is_dir() or not any(workdir.iterdir())
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return rclone.sync_argv(remote, local=str(local), direction=job.direction, workdir=str(workdir), first=first,
                            rclone=settings.REMOTES_RCLONE)  # fmt: skip


def _publish(run: SyncRun) -> None:
    data = {"job": run.job_id, "run": run.pk, "state": run.state, "percent": run.percent,
            "bytes": run.bytes_done, "total": run.bytes_total, "files": run.files_done, "message": shown(run.message)}  # fmt: skip
    publish(settings.REMOTES_GROUP, SYNC_EVENT, data)


def _progress(run: SyncRun, stats: dict) -> None:
    run.bytes_done = int(stats.get("bytes") or 0)
    run.bytes_total = int(stats.get("totalBytes") or 0)
    run.files_done = int(stats.get("transfers") or 0)
    run.save(update_fields=["bytes_done", "bytes_total", "files_done"])


def _follow(run: SyncRun, argv: list[str]) -> tuple[int, str]:
    """Read rclone's log to its end: progress as it comes, the last error kept; returns (status, error)."""
    last_error, published = "", 0.0
    for item in rclone.stream(argv):
        if isinstance(item, int):
            return item, last_error
        stats = rclone.stats_of(item)
        if stats is not None:
            _progress(run, stats)
        last_error = (rclone.error_of(item) if stats is None else None) or last_error
        if stats is not None and time.monotonic() - published > PUBLISH_EVERY:
            _publish(run)
            published = time.monotonic()
    return 1, last_error


def sync_run(*, run: SyncRun) -> SyncRun:
    """Run the job once; the outcome is the run's state and message (the admins hear of a failure)."""
    run.state = SyncRun.State.RUNNING
    run.save(update_fields=["state"])
    _publish(run)
    try:
        status, error = _follow(run, _argv(run.job))
    except (RemoteRefused, HostError, OSError) as exc:
        status, error = 1, getattr(exc, "stored", str(exc))
    return _finish(run, status, scrub(error, run.job.remote))


def _finish(run: SyncRun, status: int, error: str) -> SyncRun:
    run.state = SyncRun.State.DONE if status == 0 else SyncRun.State.FAILED
    run.message = "" if status == 0 else (error or deferred("rclone stopped with status %(status)s.", status=status))
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "message", "finished_at"])
    _publish(run)
    if status != 0:
        _tell_failure(run)
    return run


def _tell_failure(run: SyncRun) -> None:
    from notifications.services import notify

    notify(kind="remotes.sync_failed", params={"job": str(run.job), "error": shown(run.message)[:300]},
           subject=f"sync:{run.job_id}", link="/remotes/")  # fmt: skip
