"""Schedules: a job's or a repository's cron expression (five fields), parsed by celery.schedules.crontab, and the
one beat task per minute that starts what is due (backups, and each repository's check and prune)."""

import logging
from datetime import datetime

from celery.schedules import crontab
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..host import restic as R
from ..models import BackupJob, JobRun, Repository
from ..targets import opened
from .runs import S, run_fail, run_update

log = logging.getLogger(__name__)


def cron_parse(expr: str) -> crontab:
    """`m h dom mon dow` as a crontab; ValidationError for anything else."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValidationError("A schedule has five fields: minute hour day month weekday (e.g. 0 3 * * *).")
    try:
        return crontab(*fields[:2], day_of_week=fields[4], day_of_month=fields[2], month_of_year=fields[3])
    except ValueError as exc:
        raise ValidationError(f"This schedule cannot be read: {exc}") from None


def is_due(expr: str, *, last: datetime, now: datetime) -> bool:
    """Whether a moment of the schedule fell after `last`, up to `now`."""
    schedule = cron_parse(expr)
    schedule.nowfun = lambda: now
    return schedule.remaining_estimate(last).total_seconds() <= 0


def jobs_due(*, now: datetime | None = None) -> list[JobRun]:
    """Queue every enabled job whose schedule came due since its last scheduled run."""
    from .runs import RunError, job_run_queue

    now = now or timezone.now()
    runs = []
    for job in BackupJob.objects.filter(enabled=True).exclude(schedule=""):
        if not is_due(job.schedule, last=job.last_due_at or job.created_at, now=now):
            continue
        BackupJob.objects.filter(pk=job.pk).update(last_due_at=now)
        try:
            runs.append(job_run_queue(user=None, job=job))
        except RunError:
            log.info("backup job %s is still running: this turn is skipped", job.name)
    return runs


def check_due(*, now: datetime | None = None) -> list[JobRun]:
    """Queue a check and prune of each repository whose check schedule came due."""
    from ..tasks import check_run

    now = now or timezone.now()
    runs = []
    for repo in Repository.objects.exclude(check_schedule=""):
        if is_due(repo.check_schedule, last=repo.last_check_at or repo.created_at, now=now):
            Repository.objects.filter(pk=repo.pk).update(last_check_at=now)
            run = JobRun.objects.create(kind=JobRun.Kind.CHECK, repository=repo)
            transaction.on_commit(lambda pk=run.pk: check_run.delay(pk))
            runs.append(run)
    return runs


def schedule_check(*, run_id: int) -> JobRun:
    """Check the repository's structure, prune what no snapshot needs, and record its size on the target."""
    run = JobRun.objects.select_related("repository").get(pk=run_id)
    run_update(run, status=S.RUNNING, started_at=timezone.now())
    try:
        with opened(run.repository) as target:
            R.check(target)
            R.prune(target)
            size = R.stats(target).get("total_size")
    except R.ResticError as exc:
        Repository.objects.filter(pk=run.repository_id).update(last_error=str(exc))
        return run_fail(run, str(exc))
    Repository.objects.filter(pk=run.repository_id).update(size=size, last_error="")
    return run_update(run, status=S.DONE, finished_at=timezone.now(), size=size or 0)
