"""Celery tasks of the file manager: each one looks its row up and calls a service."""

from pathlib import Path

from celery import shared_task

from .models import FileTask


@shared_task
def filetask_run(task_id: int) -> None:
    """Run a copy, move, extract or compress task."""
    from .services import archive_run
    from .services import filetask_run as run

    task = FileTask.objects.select_related("user").get(pk=task_id)
    # Its error is stored as a message id (casaos_site.i18n): each page, API answer and socket says it in its words.
    if task.kind in (FileTask.Kind.EXTRACT, FileTask.Kind.COMPRESS):
        archive_run(task=task)
    else:
        run(task=task)


@shared_task
def thumbnail_make(real: str) -> None:
    """Make one image thumbnail (the path was resolved and checked by the request that asked)."""
    from .services import thumbnail_make as make

    make(real=Path(real))


@shared_task
def files_cleanup() -> dict:
    """Hourly: remove abandoned partial uploads and trash past its keep time."""
    from .services import trash_purge_expired, uploads_expire

    return {"uploads": uploads_expire(), "trash": trash_purge_expired()}
