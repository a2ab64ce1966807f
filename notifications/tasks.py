"""Celery tasks of the notification centre: each is a lookup and a service call."""

from celery import shared_task


@shared_task(name="notifications.deliver", bind=True, max_retries=None, acks_late=True)
def deliver(self, delivery_id: int) -> None:
    """Send one delivery; a failure that can heal comes back later (the service says when)."""
    from .channels import delivery_send

    retry_in = delivery_send(delivery_id=delivery_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(name="notifications.cleanup")
def cleanup() -> int:
    """Delete what is older than NOTIFY_KEEP_DAYS (beat, daily)."""
    from .services import notifications_cleanup

    return notifications_cleanup()
