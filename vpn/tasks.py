"""Celery tasks of the VPN: each calls a service."""

from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="vpn.apply")
def vpn_apply() -> None:
    """Make the live WireGuard interface match the database."""
    from .apply import vpn_apply_run

    vpn_apply_run()


@worker_ready.connect
def _apply_at_start(**kwargs) -> None:
    # Queued, not run here: after a restart of the box (or of wireguard-go) the interface comes back as stored.
    from .models import VpnServer

    if VpnServer.objects.filter(enabled=True).exists():
        vpn_apply.delay()
