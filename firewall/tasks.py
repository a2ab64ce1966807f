"""Celery tasks of the firewall: each calls a service."""

from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="firewall.apply")
def firewall_apply() -> bool:
    """Load our nftables table from the database (or remove it when the firewall is off)."""
    from .services import firewall_apply as apply

    return apply()


@worker_ready.connect
def _apply_at_start(**kwargs) -> None:
    # A reboot leaves nftables empty, and a box switched off must lose our table: queued, never run inline.
    firewall_apply.delay()
