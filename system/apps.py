from django.apps import AppConfig


class SystemConfig(AppConfig):
    """Settings → System (host name, time zone, language, web address, power) and the Logs page."""

    name = "system"
