from django.apps import AppConfig


class SharesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shares"
    verbose_name = "Shares (SMB)"

    def ready(self) -> None:
        from . import hooks, signals  # noqa: F401  (disks that come and go; users deleted or disabled)
