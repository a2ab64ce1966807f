"""Reads of system status."""

import json
import time

import redis
from django.conf import settings

from .services import LATEST_KEY
from .system import sample_once

FRESH_SECONDS = 5


def system_status_latest() -> dict:
    """The sampler's latest figures, or a fresh sample when the sampler is not running or Redis is down."""
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        raw = client.get(LATEST_KEY)
    except redis.RedisError:
        raw = None
    if raw:
        figures = json.loads(raw)
        if time.time() - figures["time"] < FRESH_SECONDS:
            return figures
    return sample_once().as_dict()


def mounted_roots() -> list[tuple[str, str]]:
    """(name, folder) of each disk and pool we mounted that is mounted now: the only disks apps and files may use."""
    from .host.mount import is_mounted
    from .models import Mount, Pool

    rows = [*Mount.objects.filter(state=Mount.State.MOUNTED), *Pool.objects.filter(state=Pool.State.MOUNTED)]
    return [(row.name, row.target) for row in rows if is_mounted(row.target)]
