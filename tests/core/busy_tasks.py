"""A task that holds a worker slot, loaded into a test worker with `--include` (busy is not dead: test_health)."""

import time

from celery import shared_task


@shared_task(name="tests.hold")
def hold(seconds: float) -> None:
    """Keep this pool slot busy, as a long install does."""
    time.sleep(seconds)
