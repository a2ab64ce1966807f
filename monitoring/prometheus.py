"""/metrics in the Prometheus text format: the host, the apps, and what the site counted."""

import logging
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import CollectorRegistry

from casaos_site.queues import QUEUES

from .counters import counters_read
from .history import apps_latest, metrics_root
from .store import store_size

log = logging.getLogger(__name__)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def host_metrics(figures: dict) -> Iterator[Metric]:
    """CPU, memory, temperature, uptime, and each interface, disk and file system."""
    yield _gauge("casaos_cpu_usage_percent", "CPU in use, all cores (100 = every core busy)", figures["cpu_percent"])
    yield _gauge("casaos_cpu_count", "Logical CPUs", figures["cpu_count"])
    yield _gauge("casaos_load1", "Load average over one minute", figures["load"][0])
    yield _gauge("casaos_memory_total_bytes", "Memory of the machine", figures["memory_total"])
    yield _gauge("casaos_memory_used_bytes", "Memory in use (total minus available)", figures["memory_used"])
    yield _gauge("casaos_uptime_seconds", "Seconds since the machine started", figures["uptime"])
    # Declared even without a sensor, so a dashboard's query names a known metric; it has a sample where one reads.
    temperature = GaugeMetricFamily("casaos_cpu_temperature_celsius", "Processor temperature")
    if figures.get("cpu_temperature") is not None:
        temperature.add_metric([], figures["cpu_temperature"])
    yield temperature
    yield from _labelled(
        figures.get("interfaces", ()),
        "interface",
        [
            ("casaos_network_receive_bytes", "Bytes received since boot (loopback left out)", "recv_total"),
            ("casaos_network_transmit_bytes", "Bytes sent since boot (loopback left out)", "sent_total"),
        ],
    )
    yield from _labelled(
        figures.get("disk_io", ()),
        "device",
        [
            ("casaos_disk_read_bytes", "Bytes read from the disk since boot", "read_total"),
            ("casaos_disk_written_bytes", "Bytes written to the disk since boot", "write_total"),
        ],
    )
    yield from _filesystems(figures.get("disks", ()))


def _labelled(rows, label: str, counters: list[tuple[str, str, str]]) -> Iterator[Metric]:
    name_field = "name"
    for metric, doc, field in counters:
        family = CounterMetricFamily(metric, doc, labels=[label])
        for row in rows:
            family.add_metric([row[name_field]], row[field])
        yield family


def _filesystems(disks) -> Iterator[Metric]:
    size = GaugeMetricFamily("casaos_filesystem_size_bytes", "Size of each mounted file system", labels=["mountpoint"])
    used = GaugeMetricFamily("casaos_filesystem_used_bytes", "Bytes used on each file system", labels=["mountpoint"])
    for disk in disks:
        size.add_metric([disk["mountpoint"]], disk["total"])
        used.add_metric([disk["mountpoint"]], disk["used"])
    yield size
    yield used


def app_metrics() -> Iterator[Metric]:
    """Each app's status, and the last sample of its CPU, memory and network."""
    from apps.models import Installation

    rows = list(Installation.objects.values_list("pk", "name", "status"))
    up = GaugeMetricFamily("casaos_app_up", "1 when the app is running", labels=["app"])
    by_status = GaugeMetricFamily("casaos_apps", "Apps by status", labels=["status"])
    for status in Installation.Status.values:
        by_status.add_metric([status], sum(1 for row in rows if row[2] == status))
    for _pk, name, status in rows:
        up.add_metric([name], 1 if status == Installation.Status.RUNNING else 0)
    yield up
    yield by_status
    yield from _app_samples({str(pk): name for pk, name, _status in rows})


def _app_samples(names: dict[str, str]) -> Iterator[Metric]:
    families = {
        "cpu_seconds_total": CounterMetricFamily(
            "casaos_app_cpu_seconds", "CPU time of the app's containers", labels=["app"]
        ),
        "memory": GaugeMetricFamily("casaos_app_memory_bytes", "Memory of the app's containers", labels=["app"]),
        "rx_total": CounterMetricFamily("casaos_app_network_receive_bytes", "Bytes the app received", labels=["app"]),
        "tx_total": CounterMetricFamily("casaos_app_network_transmit_bytes", "Bytes the app sent", labels=["app"]),
    }
    for pk, figures in apps_latest().items():
        if pk in names:
            for field, family in families.items():
                family.add_metric([names[pk]], figures[field])
    yield from families.values()


def site_metrics() -> Iterator[Metric]:
    """Installs, uploads, logins and failed tasks (counted as they happen), the task queues, the history's size."""
    counts = counters_read()
    yield _counter_by("casaos_installs", "Installs ended, by outcome", "outcome", counts, "installs")
    yield _counter_by("casaos_logins", "Password logins, by result", "result", counts, "logins")
    yield _counter_by("casaos_task_failures", "Background tasks that failed, by task", "task", counts, "task_failures")
    yield CounterMetricFamily("casaos_uploads", "Uploads completed", value=counts.get(("uploads", ""), 0))
    yield CounterMetricFamily(
        "casaos_upload_bytes", "Bytes of completed uploads", value=counts.get(("upload_bytes", ""), 0)
    )
    yield _queue_lengths()
    yield _gauge("casaos_metrics_store_bytes", "Disk space of the metrics history", store_size(metrics_root()))


def _counter_by(metric: str, doc: str, label: str, counts: dict, name: str) -> CounterMetricFamily:
    family = CounterMetricFamily(metric, doc, labels=[label])
    for (counter, value_label), value in sorted(counts.items()):
        if counter == name:
            family.add_metric([value_label], value)
    return family


def _queue_lengths() -> GaugeMetricFamily:
    """Tasks waiting in each queue (none counted when the broker cannot be read)."""
    family = GaugeMetricFamily("casaos_celery_queue_length", "Tasks waiting in each queue", labels=["queue"])
    for queue, length in queue_lengths().items():
        family.add_metric([queue], length)
    return family


def queue_lengths() -> dict[str, int]:
    """Messages waiting per queue: Celery's Redis transport keeps one list per queue and priority step."""
    from casaos_site.celery import app

    try:
        with app.connection_for_read() as conn:
            channel = conn.default_channel
            with channel.conn_or_acquire() as client:
                return {q: sum(client.llen(channel._q_for_pri(q, p)) for p in channel.priority_steps) for q in QUEUES}
    except Exception as exc:  # no Redis: the scrape still answers, without the queues
        log.warning("cannot read the task queues: %s", exc)
        return {}


class _Collector:
    def __init__(self, figures: dict) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        yield from host_metrics(self.figures)
        yield from app_metrics()
        yield from site_metrics()


def metrics_text(*, figures: dict) -> bytes:
    """Everything above in the text format (version 0.0.4)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(figures))
    return generate_latest(registry)
