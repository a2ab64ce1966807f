"""Format a whole disk: checks and a queued job (service), then partition, filesystem and mount (the task's run)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.services.audit import audit_record
from casaos_site.events import publish
from casaos_site.i18n import deferred

from .host import format as host_format
from .host.errors import HostError
from .inventory import inventory_refresh
from .models import Disk, DiskJob, Partition
from .mounts import partition_mount
from .safety import StorageRefused, check_confirmation, check_may_format, check_no_running_job, check_stepped_up

# What a whole-disk format offers (issue 15): ext4 is the default.
FORMAT_FILESYSTEMS = ("ext4", "xfs", "btrfs", "exfat")
JOB_EVENT = "storage.job"
log = logging.getLogger(__name__)


def _check_request(*, disk: Disk, fstype: str, label: str) -> None:
    if fstype not in FORMAT_FILESYSTEMS:
        raise StorageRefused(
            deferred("Choose one of %(choices)s.", choices=", ".join(FORMAT_FILESYSTEMS)), code="fstype", status=400
        )
    try:
        host_format.check_label(label)
    except HostError as exc:
        raise StorageRefused(
            deferred("A label is 1 to 11 letters, digits, - or _, starting with a letter or digit."),
            code="label",
            status=400,
        ) from exc


def disk_format(*, disk: Disk, fstype: str, label: str, confirm: str, user=None, request=None) -> DiskJob:
    """Check every rule (step-up, system disk, mounted, typed model and serial), record the job and queue it."""
    check_stepped_up(request)
    inventory_refresh()
    disk.refresh_from_db()
    check_may_format(disk)
    check_no_running_job(disk)
    check_confirmation(disk, confirm)
    _check_request(disk=disk, fstype=fstype, label=label)
    job = DiskJob.objects.create(disk=disk, fstype=fstype, label=label, requested_by=user)
    audit_record(
        actor=user,
        action="storage.format",
        request=request,
        target=disk.stable_id,
        details={"fstype": fstype, "label": label, "model": disk.model, "serial": disk.serial},
    )
    from .tasks import disk_format as disk_format_task

    transaction.on_commit(lambda: disk_format_task.delay(job.pk))
    return job


def job_payload(job: DiskJob) -> dict:
    return {
        "job": job.pk,
        "disk": job.disk.stable_id,
        "operation": job.operation,
        "status": job.status,
        "progress": job.progress,
        "step": job.step,
        "error": job.error,
        "mount": job.mount_id,
    }


def _progress(job: DiskJob, progress: int, step: str, status: str = DiskJob.Status.RUNNING) -> None:
    job.progress, job.step, job.status = progress, step, status
    if status in (DiskJob.Status.DONE, DiskJob.Status.FAILED):
        job.finished_at = timezone.now()
    job.save(update_fields=["progress", "step", "status", "error", "mount", "finished_at"])
    publish(settings.STORAGE_GROUP, JOB_EVENT, job_payload(job))


def _format_steps(job: DiskJob) -> None:
    disk = job.disk
    _progress(job, 5, deferred("checking"))
    inventory_refresh()
    disk.refresh_from_db()
    check_may_format(disk)  # again: something may have been mounted since the job was queued
    _progress(job, 15, deferred("partitioning"))
    part_path = host_format.partition_whole_disk(disk.path)
    _progress(job, 35, deferred("making the filesystem"))
    host_format.make_filesystem(fstype=job.fstype, device=part_path, label=job.label)
    _progress(job, 85, deferred("mounting"))
    inventory_refresh()
    part = Partition.objects.select_related("disk").get(disk=disk, path=part_path)
    job.mount = partition_mount(part, name=job.label, user=job.requested_by)


def disk_format_run(*, job_id: int) -> DiskJob:
    """Partition, make the filesystem, mount it; progress to the storage group, the state in the job's row."""
    job = DiskJob.objects.select_related("disk").get(pk=job_id)
    if job.status != DiskJob.Status.QUEUED:  # a redelivered task: the first delivery owns the job
        return job
    try:
        _format_steps(job)
    except (HostError, StorageRefused) as exc:
        job.error = exc.stored if isinstance(exc, StorageRefused) else str(exc)  # a tool's own words stay as they are
        _progress(job, job.progress, deferred("failed"), DiskJob.Status.FAILED)
        return job
    except Exception as exc:  # a bug or a database error: the job must not stay "running" and block the disk
        log.exception("storage: format job %s failed unexpectedly", job.pk)
        job.error = f"{type(exc).__name__}: {exc}"
        _progress(job, job.progress, deferred("failed"), DiskJob.Status.FAILED)
        return job
    _progress(job, 100, deferred("done"), DiskJob.Status.DONE)
    return job
