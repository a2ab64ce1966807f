"""What follows a change to a user, whichever path made it (pages, the API, the Django admin, the console)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import User
from .services.setup import setup_token_discard
from .services.tokens import api_tokens_revoke_all


@receiver(post_save, sender=User, dispatch_uid="accounts.user_saved")
def user_saved(sender, instance: User, created: bool, **kwargs) -> None:
    """An admin now exists: the setup token goes. A password was set: the user's API tokens go."""
    if instance.is_admin:
        transaction.on_commit(setup_token_discard)
    # Django keeps the new password in `_password` until the save is done, and not for its own rehashing on login:
    # so this is true exactly when someone set a password (`manage.py changepassword` included).
    if not created and instance._password is not None:
        api_tokens_revoke_all(user=instance, reason="password changed")
