from django.apps import AppConfig


class RemotesConfig(AppConfig):
    """Network shares and cloud drives mounted as roots of the file manager, and sync jobs with them."""

    name = "remotes"
    verbose_name = "Remotes"
