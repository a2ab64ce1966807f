from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, roles, MFA, API tokens, lockout and the audit log."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # schema registers the token scheme with drf-spectacular; signals connects its receivers.
        from . import schema, signals  # noqa: F401
