"""A task that holds a worker slot, loaded into a test worker with `--include` (busy is not dead: test_health)."""

import time

from celery import shared_task


@shared_task(name="tests.hold")
def hold(seconds: float) -> None:
    """Keep this pool slot busy, as a long install does."""
    time.sleep(seconds)


@shared_task(name="tests.stamp")
def stamp(key: str) -> None:
    """Note in Redis (the broker's database) when this task started, so a test can tell what ran before what."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).set(key, repr(time.time()))
