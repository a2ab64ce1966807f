from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The home page: app tiles, system widgets and the one search box."""

    name = "home"
