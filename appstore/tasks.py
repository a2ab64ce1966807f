"""Celery tasks of the app store: lookups and calls into services, nothing else."""

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings


@shared_task(
    bind=True, name="appstore.sync_store", ignore_result=True, soft_time_limit=1800, time_limit=1860, max_retries=None
)
def sync_store(self, store_id: int) -> None:
    """Sync one store; after a network or server failure, again later (the service picks the backoff)."""
    from .services import store_sync_in_child, store_sync_retry_delay, store_sync_run

    # In a worker the sync runs in a child process, so the worker's memory stays as it was. An eager call (tests,
    # `apply`) stays in the caller's process: its rows may sit in a transaction no other process can see.
    sync = store_sync_run if self.request.is_eager else store_sync_in_child
    store = sync(store_id=store_id)
    delay = store_sync_retry_delay(store=store, attempt=self.request.retries) if store else None
    if delay is not None:
        raise self.retry(countdown=delay)


@shared_task(name="appstore.sync_all", ignore_result=True)
def sync_all() -> None:
    """Queue a sync of every enabled store (celery beat, every CASAOS_APPSTORE_SYNC_MINUTES)."""
    from .services import store_sync_all

    store_sync_all()


@shared_task(name="appstore.sync_due", ignore_result=True)
def sync_due() -> None:
    """Queue the stores that are due (never synced, failed, or older than a sync period)."""
    from .services import store_sync_due

    store_sync_due()


@worker_ready.connect
def _sync_at_start(sender=None, **kwargs) -> None:
    # Once per worker start (the main process, not each pool child): a fresh install's default store syncs
    # without anyone pressing a button. A second worker starting finds the stores already queued and skips them.
    if settings.APPSTORE_SYNC_AT_START:
        sync_due.delay()
