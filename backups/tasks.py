"""Backup tasks: each fetches by id and calls a service (runs go to the long queue: casaos_site/queues.py)."""

from celery import shared_task


@shared_task(name="backups.backup_run")
def backup_run(run_id: int) -> None:
    """Run one queued backup."""
    from .services import run_backup

    run_backup(run_id=run_id)


@shared_task(name="backups.restore_run")
def restore_run(run_id: int) -> None:
    """Run one queued restore."""
    from .services import restore_run as restore

    restore(run_id=run_id)


@shared_task(name="backups.box_restore")
def box_restore() -> None:
    """The whole box back from the setup page's request; then this worker stops, to start again on the new keys."""
    from casaos_site.restart import restart_soon

    from .services.box import box_restore_run

    if box_restore_run():
        restart_soon()


@shared_task(name="backups.check_run")
def check_run(run_id: int) -> None:
    """Check and prune one repository."""
    from .services import schedule_check

    schedule_check(run_id=run_id)


@shared_task(name="backups.tick")
def tick() -> None:
    """Every minute: start the backups and the checks that are due."""
    from .services import check_due, jobs_due
    from .services.runs import runs_lost

    runs_lost()
    jobs_due()
    check_due()
