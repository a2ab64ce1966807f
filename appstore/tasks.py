"""Celery tasks of the app store: lookups and calls into services, nothing else."""

from celery import shared_task


@shared_task(name="appstore.sync_store", ignore_result=True, soft_time_limit=1800, time_limit=1860)
def sync_store(store_id: int) -> None:
    """Sync one store."""
    from .services import store_sync_run

    store_sync_run(store_id=store_id)


@shared_task(name="appstore.sync_all", ignore_result=True)
def sync_all() -> None:
    """Queue a sync of every enabled store (celery beat, every CASAOS_APPSTORE_SYNC_MINUTES)."""
    from .services import store_sync_all

    store_sync_all()
