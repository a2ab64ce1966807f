"""Writes of the backups app, one module per concern; callers import from here."""

from .repositories import (
    RepositoryError,
    repository_create,
    repository_delete,
    repository_password_reveal,
    snapshots_sync,
)
from .restore import restore_queue, restore_run
from .runs import GROUP, RUN_EVENT, job_run_queue, run_backup, run_fail
from .schedule import check_due, jobs_due, schedule_check

__all__ = [
    "GROUP",
    "RUN_EVENT",
    "RepositoryError",
    "check_due",
    "job_run_queue",
    "jobs_due",
    "repository_create",
    "repository_delete",
    "repository_password_reveal",
    "restore_queue",
    "restore_run",
    "run_backup",
    "run_fail",
    "schedule_check",
    "snapshots_sync",
]
