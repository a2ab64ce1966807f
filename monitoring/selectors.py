"""Reads of the metrics history: one range of the host's series, or of one app's, ready for a chart."""

import time
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from . import store


@dataclass(frozen=True)
class Range:
    tier: store.Tier
    slots: int  # slots of the tier the range covers
    group: int  # slots averaged into one point (a chart needs no more than ~1,440 points)

    @property
    def step(self) -> int:
        return self.tier.step * self.group


RANGES = {
    "1h": Range(store.FINE, 360, 1),  # 360 points of 10 s
    "24h": Range(store.FINE, store.SLOTS, 6),  # 1,440 points of 1 min
    "30d": Range(store.COARSE, store.SLOTS, 6),  # 1,440 points of 30 min
}


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 3) if known else None


def _grouped(values: list[float | None], group: int) -> list[float | None]:
    return [_mean(values[i : i + group]) for i in range(0, len(values), group)]


def series_label(key: tuple[str, ...]) -> tuple[str, str, str]:
    """(chart, label, unit) of a series: which chart draws it, its legend, and how its values read."""
    kind, rest = key[0], key[1:]
    if kind == "host":
        return _host_label(rest)
    return _app_label(rest[1:])


def _host_label(rest: tuple[str, ...]) -> tuple[str, str, str]:
    match rest:
        case ("cpu",):
            return "cpu", _("CPU"), "%"
        case ("memory",):
            return "cpu", _("Memory"), "%"
        case ("memory_used",):
            return "memory", _("Memory used"), "B"
        case ("temperature",):
            return "temperature", _("CPU temperature"), "°C"
        case ("net", name, direction):
            return "network", _received_sent(name, direction), "B/s"
        case ("io", name, direction):
            label = _("%(disk)s read") if direction == "read" else _("%(disk)s written")
            return "disk_io", label % {"disk": name}, "B/s"
        case ("fs", mount, _percent):
            return "disk_use", mount, "%"
    return "other", "|".join(rest), ""


def _app_label(rest: tuple[str, ...]) -> tuple[str, str, str]:
    match rest:
        case ("cpu",):
            return "cpu", _("CPU"), "%"
        case ("memory",):
            return "memory", _("Memory"), "B"
        case (direction,):
            return "network", _("received") if direction == "rx" else _("sent"), "B/s"
    return "other", "|".join(rest), ""


def _received_sent(name: str, direction: str) -> str:
    label = _("%(interface)s received") if direction == "rx" else _("%(interface)s sent")
    return label % {"interface": name}


def metrics_range(*, root: Path, range_name: str, prefix: tuple[str, ...], now: float | None = None) -> dict:
    """The series under `prefix` (("host",) or ("app", id)) over a range: shared times, then each series' values."""
    span = RANGES[range_name]
    now = time.time() if now is None else now
    last = int(now // span.tier.step)
    first = last - span.slots + 1
    first -= first % span.group  # points on round times, the same from one request to the next
    count = last - first + 1
    series = []
    for key in store.store_series(root, prefix):
        values = _grouped(store.store_read(root, key, tier=span.tier, first=first, count=count), span.group)
        if any(v is not None for v in values):
            chart, label, unit = series_label(key)
            series.append({"key": series_name(key), "chart": chart, "label": label, "unit": unit, "values": values})
    times = [(first + i) * span.tier.step for i in range(0, count, span.group)]
    return {"range": range_name, "step": span.step, "times": times, "series": series}


def series_name(key: tuple[str, ...]) -> str:
    """A series' name in the API: its key without the host/app prefix (an app's also without its id)."""
    return "|".join(key[2:] if key[0] == "app" else key[1:])
