"""Counters for /metrics that no table keeps: logins, finished installs and uploads, failed tasks (in Redis, so the
web process and the worker add to the same ones)."""

import logging
from functools import lru_cache

import redis
from django.conf import settings

log = logging.getLogger(__name__)

COUNTERS_KEY = "casaos:metrics:counters"


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def redis_client() -> redis.Redis:
    """One client (and connection pool) per Redis URL and process."""
    return _client(settings.REDIS_URL)


def counter_add(name: str, label: str = "", amount: int = 1) -> None:
    """Add to a counter; a Redis outage loses the count, never the caller's work."""
    try:
        redis_client().hincrby(COUNTERS_KEY, f"{name}|{label}", amount)
    except redis.RedisError as exc:
        log.warning("could not count %s: %s", name, exc)


def counters_read() -> dict[tuple[str, str], int]:
    """Every counter by (name, label)."""
    raw = redis_client().hgetall(COUNTERS_KEY)
    return {tuple(k.decode().split("|", 1)): int(v) for k, v in raw.items()}


def _login_ok(sender, **kwargs) -> None:
    counter_add("logins", "success")


def _login_failed(sender, **kwargs) -> None:
    counter_add("logins", "failure")


def _task_failed(sender=None, **kwargs) -> None:
    counter_add("task_failures", getattr(sender, "name", "") or "unknown")


def counters_connect() -> None:
    """Count logins (Django's signals: a password accepted, or refused) and failed Celery tasks."""
    from celery.signals import task_failure
    from django.contrib.auth.signals import user_logged_in, user_login_failed

    user_logged_in.connect(_login_ok, dispatch_uid="monitoring.login_ok")
    user_login_failed.connect(_login_failed, dispatch_uid="monitoring.login_failed")
    task_failure.connect(_task_failed, dispatch_uid="monitoring.task_failed", weak=False)
