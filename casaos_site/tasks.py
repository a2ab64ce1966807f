"""Project-wide tasks."""

from celery import shared_task


@shared_task(name="casaos.ping", ignore_result=False)
def ping() -> str:
    """Answer the health check's round trip through the broker, a worker and the result backend."""
    return "pong"
