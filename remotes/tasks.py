"""Celery tasks of remotes: each looks its row up by id (or takes none) and calls a service."""

from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="remotes.reapply")
def remotes_reapply() -> dict:
    """Every remote mounted again after a restart (nofail: a missing server is recorded and retried)."""
    from .services import remotes_reapply as reapply

    return reapply()


@worker_ready.connect
def _reapply_at_start(**kwargs) -> None:
    # Queued, not run here: a server that does not answer never holds the worker's start-up.
    remotes_reapply.delay()


@shared_task(name="remotes.watch")
def remotes_watch() -> dict:
    """Dead mounts mounted again, missing servers retried (beat, every minute)."""
    from .services import remotes_watch as watch

    return watch()


@shared_task(name="remotes.sync_due")
def sync_due() -> list:
    """Start the sync jobs whose schedule names this minute (beat, every minute)."""
    from .sync import sync_due as due

    return due()


@shared_task(name="remotes.sync_run")
def sync_run(run_id: int) -> None:
    """One run of a sync job."""
    from .models import SyncRun
    from .sync import sync_run as run

    run(run=SyncRun.objects.select_related("job__remote", "job__created_by").get(pk=run_id))
