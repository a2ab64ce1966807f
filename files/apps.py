from django.apps import AppConfig


class FilesConfig(AppConfig):
    """The file manager."""

    name = "files"
