from django.apps import AppConfig


class ProxyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "proxy"
    verbose_name = "Proxy and app addresses"

    def ready(self) -> None:
        from . import signals  # noqa: F401
