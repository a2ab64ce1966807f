from django.apps import AppConfig


class NetworkConfig(AppConfig):
    """The Network page: interfaces, routes, DNS, host name; interface changes through NetworkManager."""

    name = "network"
