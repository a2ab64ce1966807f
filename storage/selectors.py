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
