from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, roles, MFA, API tokens, lockout and the audit log."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from . import schema  # noqa: F401  (registers the token scheme with drf-spectacular)
