"""What the one monitor records into the history: host series from its samples, app series every 10 s.

The monitor samples every CASAOS_STATS_INTERVAL seconds (1 s) for the live widgets; the recorder averages those
samples over each 10 s slot and writes the mean, so a spike between two slots still moves the line. Apps are read
from the engine once per slot, in a thread of their own so a slow engine never delays the live figures.
"""

import json
import logging
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from django.conf import settings

from casaos_site.events import publish
from storage.services import SYSTEM_GROUP

from . import store
from .app_sampler import AppFigures, AppSampler
from .counters import redis_client
from .selectors import series_name

log = logging.getLogger(__name__)

METRICS_EVENT = "metrics.point"
APPS_LATEST_KEY = "casaos:metrics:apps"  # the last app sample, for /metrics
PRUNE_SLOTS = 360  # look for series to delete once an hour


def metrics_root() -> Path:
    return Path(settings.METRICS_DIR)


def host_points(figures: dict) -> dict[tuple[str, ...], float]:
    """The host's series of one sample: CPU, memory, temperature, each interface, each disk's I/O and use."""
    points = {
        ("host", "cpu"): figures["cpu_percent"],
        ("host", "memory"): figures["memory_percent"],
        ("host", "memory_used"): figures["memory_used"],
    }
    if figures.get("cpu_temperature") is not None:
        points["host", "temperature"] = figures["cpu_temperature"]
    for nic in figures.get("interfaces", ()):
        points["host", "net", nic["name"], "rx"] = nic["recv_per_s"]
        points["host", "net", nic["name"], "tx"] = nic["sent_per_s"]
    for disk in figures.get("disk_io", ()):
        points["host", "io", disk["name"], "read"] = disk["read_per_s"]
        points["host", "io", disk["name"], "write"] = disk["write_per_s"]
    for disk in figures.get("disks", ()):
        points["host", "fs", disk["mountpoint"], "percent"] = disk["percent"]
    return points


def app_points(pk: int, figures: AppFigures) -> dict[tuple[str, ...], float]:
    app = str(pk)
    return {
        ("app", app, "cpu"): figures.cpu_percent,
        ("app", app, "memory"): figures.memory,
        ("app", app, "rx"): figures.rx_per_s,
        ("app", app, "tx"): figures.tx_per_s,
    }


def points_payload(when: float, points: dict[tuple[str, ...], float], *, app: int | None = None) -> dict:
    """A live point as the charts take it: the same series keys as the API's, and whose they are (an app or the host)."""
    values = {series_name(key): round(value, 3) for key, value in points.items()}
    return {"time": when, "app": app, "points": values}


class HistoryRecorder:
    """Averages the monitor's samples per 10 s slot, writes them to the store, and has the apps sampled."""

    def __init__(self, *, root: Path | None = None, engine=None) -> None:
        self.root = root or metrics_root()
        self._engine = engine
        self._slot: int | None = None
        self._sums: dict[tuple[str, ...], float] = defaultdict(float)
        self._counts: dict[tuple[str, ...], int] = defaultdict(int)
        self._apps = AppSampler()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-apps")
        self._apps_busy: Future | None = None
        self._written = 0

    def add(self, figures: dict) -> None:
        """Take one monitor sample; the first sample of a new slot writes the slot before it."""
        slot = int(figures["time"] // store.FINE.step)
        if self._slot is not None and slot != self._slot:
            self.flush()
        self._slot = slot
        for key, value in host_points(figures).items():
            self._sums[key] += value
            self._counts[key] += 1

    def flush(self) -> None:
        """Write the current slot's means, push them live, and have the apps sampled for the same slot."""
        if self._slot is None or not self._counts:
            return
        when = self._slot * store.FINE.step
        means = {key: self._sums[key] / count for key, count in self._counts.items()}
        self._sums.clear()
        self._counts.clear()
        store.store_write(self.root, means, when=when, max_series=settings.METRICS_MAX_SERIES)
        publish(SYSTEM_GROUP, METRICS_EVENT, points_payload(when, means))
        self._apps_start(when)
        self._written += 1
        if self._written % PRUNE_SLOTS == 1:
            history_prune(root=self.root)

    def _apps_start(self, when: float) -> None:
        # A sample still running (an engine slower than 10 s) is left to finish: that slot gets no app figures.
        if self._engine is None or (self._apps_busy is not None and not self._apps_busy.done()):
            return
        self._apps_busy = self._pool.submit(self._apps_record, when)

    def _apps_record(self, when: float) -> None:
        from django.db import close_old_connections

        close_old_connections()  # this thread keeps its connection between samples: drop it if it broke
        try:
            apps_record(root=self.root, sampler=self._apps, eng=self._engine(), when=when)
        except Exception:  # the engine down, or a database hiccup: the next slot tries again
            log.warning("could not sample the apps' figures", exc_info=True)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def apps_record(*, root: Path, sampler: AppSampler, eng, when: float) -> dict[int, AppFigures]:
    """Sample every app, write its series, keep the sample for /metrics and push each app's point to its page."""
    from apps.models import Installation

    figures = sampler.sample(eng)
    ids = dict(Installation.objects.filter(name__in=figures).values_list("name", "pk"))
    by_pk = {ids[name]: f for name, f in figures.items() if name in ids}
    points: dict[tuple[str, ...], float] = {}
    for pk, f in by_pk.items():
        points.update(app_points(pk, f))
    store.store_write(root, points, when=when, max_series=settings.METRICS_MAX_SERIES)
    _apps_latest_keep(by_pk)
    for pk, f in by_pk.items():
        publish(f"app.{pk}", METRICS_EVENT, points_payload(when, app_points(pk, f), app=pk))
    return by_pk


def _apps_latest_keep(by_pk: dict[int, AppFigures]) -> None:
    latest = {"time": time.time(), "apps": {str(pk): asdict(f) for pk, f in by_pk.items()}}
    try:
        redis_client().set(APPS_LATEST_KEY, json.dumps(latest), ex=120)
    except Exception as exc:  # redis errors: /metrics then shows no app figures until the next sample
        log.warning("could not keep the apps' figures: %s", exc)


def apps_latest() -> dict[str, dict]:
    """The last app sample by app id ({} when none is fresh)."""
    try:
        raw = redis_client().get(APPS_LATEST_KEY)
    except Exception:
        return {}
    return json.loads(raw)["apps"] if raw else {}


def history_prune(*, root: Path) -> list[Path]:
    """Delete the series of apps that are gone, and any series not written for 30 days."""
    from apps.models import Installation

    apps = {str(pk) for pk in Installation.objects.values_list("pk", flat=True)}
    return store.store_prune(root, drop=lambda key: key[0] == "app" and key[1] not in apps)
