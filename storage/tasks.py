"""Celery tasks of storage: each looks its row up by id and calls a service."""

from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="storage.format")
def disk_format(job_id: int) -> None:
    """Partition, format and mount one disk."""
    from .formatting import disk_format_run

    disk_format_run(job_id=job_id)


@shared_task(name="storage.health_check_all")
def health_check_all() -> int:
    """SMART readings of every attached disk (beat: every CASAOS_STORAGE_HEALTH_INTERVAL seconds)."""
    from .health import health_check_all as check_all

    return check_all()


@shared_task(name="storage.reapply")
def storage_reapply() -> dict:
    """Our mount table and pools, mounted again after a restart (nofail)."""
    from .mounts import mounts_reapply
    from .pools import pools_reapply

    return {"mounts": mounts_reapply(), "pools": pools_reapply()}


@worker_ready.connect
def _reapply_at_start(**kwargs) -> None:
    # Queued, not run here: a slow or missing disk never holds the worker's start-up.
    storage_reapply.delay()


@shared_task(name="storage.full_check")
def full_check() -> int:
    """Warn once when a mounted disk or pool fills above the threshold (beat)."""
    from .fullness import full_check as check

    return check()
