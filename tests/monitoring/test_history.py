"""What the one monitor records: host series averaged per 10 s slot, app series from the engine's counters."""

import docker
import pytest

from apps.models import Installation
from monitoring import history, store
from monitoring.app_sampler import AppSampler
from runtime import labels as L
from runtime.base import ContainerCounters, ContainerInfo
from runtime.errors import NotFound
from storage.system import Sampler

T0 = 1_800_000_000


def figures(when: float, cpu: float, rx: float = 0.0) -> dict:
    return {
        "time": when,
        "cpu_percent": cpu,
        "memory_percent": 50.0,
        "memory_used": 1000,
        "cpu_temperature": None,
        "interfaces": [{"name": "eth0", "recv_per_s": rx, "sent_per_s": 1.0}],
        "disk_io": [{"name": "sda", "read_per_s": 2.0, "write_per_s": 3.0}],
        "disks": [{"mountpoint": "/", "percent": 40.0}],
    }


@pytest.mark.django_db  # the first slot written also looks for series of removed apps
def test_it_writes_the_mean_of_a_slots_samples_when_the_next_slot_begins(metrics_dir):
    recorder = history.HistoryRecorder(root=metrics_dir)
    for second, cpu in ((0, 10.0), (3, 20.0), (9, 30.0)):
        recorder.add(figures(T0 + second, cpu))
    assert store.store_series(metrics_dir) == []  # the slot is still open
    recorder.add(figures(T0 + 10, 99.0))
    assert store.store_read(metrics_dir, ("host", "cpu"), tier=store.FINE, first=T0 // 10, count=2) == [20.0, None]
    assert ("host", "net", "eth0", "rx") in store.store_series(metrics_dir)
    assert ("host", "io", "sda", "write") in store.store_series(metrics_dir)
    assert ("host", "fs", "/", "percent") in store.store_series(metrics_dir)
    recorder.close()


def test_a_real_sample_records_no_loopback_interface(metrics_dir):
    sample = Sampler().sample().as_dict()
    names = {key[2] for key in history.host_points(sample) if key[1] == "net"}
    assert "lo" not in names


class FakeEngine:
    """Two running containers of app "web" and one of "db"; counters move by what a test adds."""

    def __init__(self):
        self.containers = [
            ContainerInfo(id="c1", name="web-1", image="", state="running", status="", labels={L.APP: "web"}),
            ContainerInfo(id="c2", name="web-2", image="", state="running", status="", labels={L.APP: "web"}),
            ContainerInfo(id="c3", name="db-1", image="", state="running", status="", labels={L.APP: "db"}),
        ]
        self.now = dict.fromkeys(("c1", "c2", "c3"), ContainerCounters(0, 100, 0, 0))

    def list(self, labels, *, all=True):
        assert labels == {L.MANAGED: "true"} and not all
        return self.containers

    def counters(self, ref):
        if ref not in self.now:
            raise NotFound(ref)
        return self.now[ref]


def test_app_rates_come_from_counter_deltas_summed_per_app(monkeypatch):
    eng, sampler = FakeEngine(), AppSampler()
    clock = iter([0.0, 0.0, 0.0, 10.0, 10.0, 10.0])
    monkeypatch.setattr("monitoring.app_sampler.time.monotonic", lambda: next(clock))
    first = sampler.sample(eng)
    assert first["web"].cpu_percent == 0.0 and first["web"].memory == 200  # no rate before a second reading
    eng.now["c1"] = ContainerCounters(cpu_ns=5 * 10**9, memory_usage=300, net_rx=1000, net_tx=50)
    eng.now["c2"] = ContainerCounters(cpu_ns=5 * 10**9, memory_usage=100, net_rx=1000, net_tx=50)
    del eng.now["c3"]  # stopped between the list and its reading: left out, not an error
    second = sampler.sample(eng)
    assert second["web"].cpu_percent == pytest.approx(100.0)  # 10 s of CPU in 10 s: one core
    assert second["web"].memory == 400
    assert second["web"].rx_per_s == pytest.approx(200.0)
    assert "db" not in second


@pytest.mark.django_db
def test_apps_record_writes_each_installed_apps_series_and_pushes_its_point(metrics_dir, monkeypatch):
    web = Installation.objects.create(name="web", compose="services: {}", status=Installation.Status.RUNNING)
    pushed = []
    monkeypatch.setattr(history, "publish", lambda group, event, data: pushed.append((group, event, data)))
    history.apps_record(root=metrics_dir, sampler=AppSampler(), eng=FakeEngine(), when=T0)
    assert store.store_series(metrics_dir, ("app",)) == [("app", str(web.pk), k) for k in ("cpu", "memory", "rx", "tx")]
    assert pushed[0][0] == f"app.{web.pk}" and pushed[0][2]["points"]["memory"] == 200
    assert history.apps_latest()[str(web.pk)]["memory"] == 200


@pytest.mark.django_db
def test_prune_drops_the_series_of_an_app_that_is_gone(metrics_dir):
    store.store_write(metrics_dir, {("app", "999", "cpu"): 1.0, ("host", "cpu"): 2.0})
    history.history_prune(root=metrics_dir)
    assert store.store_series(metrics_dir) == [("host", "cpu")]


@pytest.mark.docker
@pytest.mark.django_db
def test_it_reads_a_real_containers_counters(engine, registry, metrics_dir):
    app = Installation.objects.create(name="metricsprobe", compose="services: {}", status=Installation.Status.RUNNING)
    name = "metricsprobe-probe-1"
    spec_labels = {L.MANAGED: "true", L.APP: app.name, L.PROJECT: app.name}
    client = docker.DockerClient(base_url=engine.url)
    container = client.containers.run(
        f"{registry}/casa/busybox:1", ["sh", "-c", "while :; do :; done"], name=name, labels=spec_labels, detach=True
    )
    try:
        sampler = AppSampler()
        sampler.sample(engine)
        by_pk = history.apps_record(root=metrics_dir, sampler=sampler, eng=engine, when=T0)
        assert by_pk[app.pk].memory > 0
        assert by_pk[app.pk].cpu_percent > 10  # a busy loop
    finally:
        container.remove(force=True)


def test_counters_are_read_from_docker_and_podman_stats_alike():
    from runtime.docker_parse import counters_from_raw

    raw = {
        "cpu_stats": {"cpu_usage": {"total_usage": 37796166}},
        "memory_stats": {"usage": 1499136, "stats": {"inactive_file": 266240}},
        "networks": {"eth0": {"rx_bytes": 736, "tx_bytes": 10}, "eth1": {"rx_bytes": 4, "tx_bytes": 0}},
    }
    assert counters_from_raw(raw) == ContainerCounters(cpu_ns=37796166, memory_usage=1232896, net_rx=740, net_tx=10)
    assert counters_from_raw({}) == ContainerCounters(0, 0, 0, 0)  # a container without a network (none mode)
