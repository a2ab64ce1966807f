from django.apps import AppConfig


class FirewallConfig(AppConfig):
    """The firewall: our nftables table keeps app ports and the admin port LAN-only, unless an app is public."""

    name = "firewall"

    def ready(self) -> None:
        from . import hooks  # noqa: F401  (connects the app and address signals)
