from django.apps import AppConfig


class AppsConfig(AppConfig):
    """Installed apps and their lifecycle."""

    name = "apps"
    label = "apps"
    verbose_name = "Apps"
