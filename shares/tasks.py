"""Celery tasks of shares: each calls a service."""

from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="shares.apply")
def shares_apply() -> None:
    """Write the shares into Samba's configuration and reload it."""
    from .apply import shares_apply_run

    shares_apply_run()


@worker_ready.connect
def _apply_at_start(**kwargs) -> None:
    # Queued, not run here: the stored shares go live again after a restart (disks mounted meanwhile included).
    from .models import Share

    if Share.objects.exists():
        shares_apply.delay()
