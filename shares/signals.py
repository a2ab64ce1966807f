"""A user deleted in our app loses their Samba account; a user disabled or enabled is disabled or enabled there."""

import logging

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from storage.host.errors import HostError

from .models import SambaAccount

log = logging.getLogger(__name__)


@receiver(post_delete, sender=SambaAccount)
def _account_gone(sender, instance: SambaAccount, **kwargs) -> None:
    from .smbaccounts import smb_account_remove

    try:
        smb_account_remove(account=instance)
    except HostError as exc:  # the row is gone either way; the account has no password path back in
        log.warning("shares: could not remove the Samba account %s: %s", instance.unix_name, exc)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _user_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login", "language", "theme", "hidden_widgets"}:
        return  # a login or a preference: nothing Samba needs to know
    from .smbaccounts import smb_account_enable

    try:
        smb_account_enable(user=instance, enabled=instance.is_active)
    except HostError as exc:
        log.warning("shares: could not %s the Samba account of %s: %s", "enable" if instance.is_active else
                    "disable", instance.get_username(), exc)  # fmt: skip
