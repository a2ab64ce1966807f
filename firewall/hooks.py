"""When the firewall must be re-applied: an app's published ports settle (an operation ended, an app was added or
removed), or an app's address changed (its `public` flag). Each queues the one task; nothing runs inline."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.models import Installation
from apps.signals import app_operation_ended
from proxy.models import AppAddress

from .services import firewall_request_apply


@receiver(app_operation_ended, dispatch_uid="firewall.app_operation")
def on_app_operation(sender, **kwargs) -> None:
    firewall_request_apply()


@receiver(post_save, sender=Installation, dispatch_uid="firewall.app_saved")
def on_app_saved(sender, created: bool = False, **kwargs) -> None:
    # A new app's ports are guarded before its containers publish them (its install ends with the signal above).
    if created:
        firewall_request_apply()


@receiver(post_delete, sender=Installation, dispatch_uid="firewall.app_deleted")
@receiver(post_save, sender=AppAddress, dispatch_uid="firewall.address_saved")
@receiver(post_delete, sender=AppAddress, dispatch_uid="firewall.address_deleted")
def on_change(sender, **kwargs) -> None:
    firewall_request_apply()
