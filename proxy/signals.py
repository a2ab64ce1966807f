"""An app that changes what Caddy serves (its web port, its removal) re-pushes the configuration."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.models import Installation

from .models import AppAddress
from .services import proxy_push_later


@receiver(post_save, sender=Installation, dispatch_uid="proxy-app-saved")
def app_saved(sender, instance: Installation, created: bool, update_fields=None, **kwargs) -> None:
    if created or (update_fields is not None and "web_port" not in update_fields):
        return  # a new app has no address yet; most saves (status, progress) do not touch the port
    if AppAddress.objects.filter(installation_id=instance.pk).exists():
        proxy_push_later()


@receiver(post_delete, sender=AppAddress, dispatch_uid="proxy-address-deleted")
def address_deleted(sender, instance: AppAddress, **kwargs) -> None:
    proxy_push_later()  # also when the app itself is removed (the address goes with it)
