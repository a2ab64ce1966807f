"""Project package: settings, URLs, ASGI entry point, Celery app and the events helper."""

from .celery import app as celery_app

__all__ = ("celery_app",)
