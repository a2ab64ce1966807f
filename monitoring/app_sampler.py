"""Per-app CPU, memory and network, from the engine's cumulative counters of each running container."""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from runtime import labels as L
from runtime.base import ContainerCounters, Engine
from runtime.errors import EngineError

# Docker answers a stats request at its collector's next tick (up to a second): read containers side by side.
PARALLEL_READS = 8


@dataclass(frozen=True)
class Reading:
    app: str  # the app's name (its compose project)
    at: float  # monotonic seconds
    counters: ContainerCounters


@dataclass
class AppFigures:
    cpu_percent: float = 0.0  # 100 = one core
    memory: int = 0
    rx_per_s: float = 0.0
    tx_per_s: float = 0.0
    cpu_seconds_total: float = 0.0
    rx_total: int = 0
    tx_total: int = 0


def _read(eng: Engine, container_id: str, app: str) -> tuple[str, Reading] | None:
    try:
        return container_id, Reading(app, time.monotonic(), eng.counters(container_id))
    except EngineError:  # stopped or removed since the list
        return None


def containers_read(eng: Engine) -> dict[str, Reading]:
    """One reading per running container of ours, by container id."""
    running = [c for c in eng.list({L.MANAGED: "true"}, all=False) if not L.is_aside(c.name) and L.APP in c.labels]
    if not running:
        return {}
    with ThreadPoolExecutor(max_workers=min(PARALLEL_READS, len(running)), thread_name_prefix="metrics-app") as pool:
        found = pool.map(lambda c: _read(eng, c.id, c.labels[L.APP]), running)
        return dict(item for item in found if item is not None)


def _add(figures: AppFigures, now: Reading, before: Reading | None) -> None:
    """Add one container's figures; rates need its previous reading (a new or restarted container adds none)."""
    c = now.counters
    figures.memory += c.memory_usage
    figures.cpu_seconds_total += c.cpu_ns / 1e9
    figures.rx_total += c.net_rx
    figures.tx_total += c.net_tx
    if before is None or c.cpu_ns < before.counters.cpu_ns:
        return
    elapsed = max(now.at - before.at, 1e-3)
    figures.cpu_percent += 100.0 * (c.cpu_ns - before.counters.cpu_ns) / 1e9 / elapsed
    figures.rx_per_s += max(c.net_rx - before.counters.net_rx, 0) / elapsed
    figures.tx_per_s += max(c.net_tx - before.counters.net_tx, 0) / elapsed


class AppSampler:
    """Keeps each container's previous reading, so a sample carries rates over the time between two samples."""

    def __init__(self) -> None:
        self._last: dict[str, Reading] = {}

    def sample(self, eng: Engine) -> dict[str, AppFigures]:
        """Figures of each app with a running container, by app name."""
        readings = containers_read(eng)
        apps: dict[str, AppFigures] = {}
        for container_id, reading in readings.items():
            _add(apps.setdefault(reading.app, AppFigures()), reading, self._last.get(container_id))
        self._last = readings  # containers gone since are forgotten: nothing grows with time
        return apps
