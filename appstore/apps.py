from django.apps import AppConfig


class AppstoreConfig(AppConfig):
    """App stores and the app catalogue."""

    name = "appstore"
