"""Celery tasks of the Nodes page: each looks its row up by id and calls a service."""

from celery import shared_task


@shared_task(name="nodes.init")
def swarm_init_task(init_id: int) -> None:
    """`swarm init` on the address the admin chose (seconds long: the page shows "initialising" meanwhile)."""
    from .services import swarm_init_run

    swarm_init_run(init_id=init_id)
