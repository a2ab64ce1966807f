"""System status: the sampler loop that publishes figures, and where the latest figures are kept."""

import json
import logging
import threading
import time

import redis
from django.conf import settings

from casaos_site.events import publish

from .system import Sampler

log = logging.getLogger(__name__)

SYSTEM_GROUP = "system"
STATS_EVENT = "system.stats"
LATEST_KEY = "casaos:system:latest"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


def system_stats_publish(*, sampler: Sampler) -> dict:
    """Take one sample, keep it as the latest in Redis and push it to the system group."""
    figures = sampler.sample().as_dict()
    try:
        _redis().set(LATEST_KEY, json.dumps(figures), ex=max(10, settings.STATS_INTERVAL * 5))
    except redis.RedisError as exc:
        log.warning("could not store system figures: %s", exc)
    publish(SYSTEM_GROUP, STATS_EVENT, figures)
    return figures


def system_monitor_run(*, iterations: int | None = None, stop: threading.Event | None = None) -> None:
    """The one sampler: publish figures every CASAOS_STATS_INTERVAL seconds until `stop` is set, and record them
    (with the apps' figures) into the metrics history."""
    from apps.services.common import engine
    from monitoring.history import HistoryRecorder

    sampler, recorder = Sampler(), HistoryRecorder(engine=engine)
    stop = stop or threading.Event()
    count = 0
    try:
        while (iterations is None or count < iterations) and not stop.is_set():
            started = time.monotonic()
            recorder.add(system_stats_publish(sampler=sampler))
            count += 1
            stop.wait(max(0.0, settings.STATS_INTERVAL - (time.monotonic() - started)))
    finally:
        recorder.close()
