"""The Celery application: Redis broker, tasks discovered in every Django app."""

import base64
import json
import logging
import os

from celery import Celery
from celery.signals import setup_logging, task_postrun, worker_ready, worker_shutdown

from .queues import QUEUES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casaos_site.settings")

log = logging.getLogger(__name__)

app = Celery("casaos")

app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _keep_our_logging(**kwargs) -> None:
    """Celery replaces the root logger's handlers unless someone answers this signal: the worker's lines (and its
    companion threads') would never reach casaos.log nor the structured log. Django's LOGGING stays as it is."""


def queued_args(task_name: str, *, celery_app: Celery | None = None) -> set[tuple] | None:
    """The arguments of every `task_name` message waiting in our queues; None when the broker cannot be read.

    A message a worker has taken is no longer in the queue (Redis moves it to the worker's unacknowledged set), so
    this tells "still waiting for a free worker" from "lost" (a flushed or restarted Redis, a failed publish).
    """
    celery_app = celery_app or app
    try:
        with celery_app.connection_for_read() as conn:
            channel = conn.default_channel
            # The Redis transport keeps one list per priority step, named by its own rule.
            keys = [channel._q_for_pri(queue, pri) for queue in QUEUES for pri in channel.priority_steps]
            with channel.conn_or_acquire() as client:
                raw = [item for key in keys for item in client.lrange(key, 0, -1)]
    except Exception as exc:  # no Redis, or a broker we cannot read this way
        log.warning("cannot read the task queue: %s", exc)
        return None
    return {args for item in raw if (args := _task_args(item, task_name)) is not None}


def _task_args(raw: bytes, task_name: str) -> tuple | None:
    """The positional arguments of one queued message when it is a `task_name` task (protocol 2, JSON)."""
    try:
        message = json.loads(raw)
        if message.get("headers", {}).get("task") != task_name:
            return None
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        return tuple(json.loads(body)[0])
    except (ValueError, KeyError, TypeError, IndexError):
        return None


@worker_ready.connect
def _background_start(**kwargs) -> None:
    from django.conf import settings

    if settings.WORKER_BACKGROUND:
        from .background import background_start

        background_start()


@worker_shutdown.connect
def _background_stop(**kwargs) -> None:
    from .background import background_stop

    background_stop()


@task_postrun.connect
def _heap_trim(**kwargs) -> None:
    """A task's freed memory goes back to the system, not kept in its thread's arena (casaos_site/heap.py)."""
    from .heap import heap_trim

    heap_trim()
