"""Celery tasks of the Network page: each looks its change up by id and calls a service."""

from celery import shared_task


@shared_task(name="network.apply")
def network_change_apply(change_id: int) -> None:
    """Checkpoint, then the interface change."""
    from .services import network_change_run

    network_change_run(change_id=change_id)


@shared_task(name="network.expire")
def network_change_expire(change_id: int) -> None:
    """After the rollback timeout: record that NetworkManager rolled an unconfirmed change back."""
    from .services import network_change_expire as expire

    expire(change_id=change_id)


@shared_task(name="network.expire_overdue")
def network_expire_overdue() -> int:
    """Beat: the same for any change whose expire task was lost."""
    from .services import network_changes_expire_overdue

    return network_changes_expire_overdue()
