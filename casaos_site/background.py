"""The worker's companions: the beat scheduler, the system sampler, the engine-events listener and the storage
hotplug listener (block uevents), as threads of the worker process.

Each used to be a Python process of its own that imported all of Django (about 95 MB each). As threads of the
worker they cost a few MB; all four spend their time waiting (on the schedule, the interval, the engine's event
stream, the kernel's netlink socket). Beat is a thread, not celery's forked `--beat` child: a child outlives a
worker killed under it and the restarted worker would add a second scheduler. CASAOS_WORKER_BACKGROUND=0 turns all
four off (a machine running `celery beat`, `manage.py monitor`, `manage.py app_events` and
`manage.py storage_hotplug` as processes of their own); CASAOS_WORKER_BEAT=0 only the scheduler,
CASAOS_WORKER_HOTPLUG=0 only the hotplug listener.
"""

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)
RESTART_SECONDS = 5.0  # after an unexpected error: the job starts again, as supervisord restarted its process
_stop = threading.Event()


def background_start() -> list[threading.Thread]:
    """Start the sampler and the events listener; they run until background_stop()."""
    _stop.clear()
    threads = [
        threading.Thread(target=_kept_running, args=(job,), name=name, daemon=True) for name, job in _jobs().items()
    ]
    for thread in threads:
        thread.start()
    return threads


def background_stop() -> None:
    _stop.set()


def _jobs() -> dict[str, Callable[[threading.Event], None]]:
    from django.conf import settings

    from apps.services.status import app_events_listen_all
    from storage.hotplug import hotplug_listen
    from storage.services import system_monitor_run

    jobs = {
        "system-monitor": lambda stop: system_monitor_run(stop=stop),
        "app-events": lambda stop: app_events_listen_all(stop=stop),
    }
    if settings.WORKER_HOTPLUG:
        jobs["storage-hotplug"] = lambda stop: hotplug_listen(stop=stop)
    if settings.WORKER_BEAT:
        jobs["beat"] = _beat
    return jobs


def _beat(stop: threading.Event) -> None:
    """Celery's beat service until `stop` (it sleeps at most a schedule step between two looks)."""
    from celery.beat import Service

    from casaos_site.celery import app

    service = Service(app)
    threading.Thread(target=lambda: (stop.wait(), service.stop()), name="beat-stop", daemon=True).start()
    service.start()


def _kept_running(job: Callable[[threading.Event], None]) -> None:
    """Run a job until stopped; an unexpected error is logged and the job starts again."""
    from django.db import connection

    while not _stop.is_set():
        try:
            job(_stop)
        except Exception:
            log.exception("%s failed; starting it again in %ss", threading.current_thread().name, RESTART_SECONDS)
        _stop.wait(RESTART_SECONDS)
    connection.close()
