"""System figures: network rates per interface without loopback, the CPU temperature where it is reported."""

from collections import namedtuple

import pytest
from django.template.loader import render_to_string

from storage import system
from storage.templatetags.system import uptime

Counters = namedtuple("Counters", "bytes_sent bytes_recv")
Stats = namedtuple("Stats", "isup flags")
Sensor = namedtuple("Sensor", "label current high critical")

IF_STATS = {
    "lo": Stats(True, "up,loopback,running"),
    "eth0": Stats(True, "up,broadcast,running,multicast"),
    "wlan0": Stats(True, "up,broadcast,running,multicast"),
    "eth1": Stats(False, "broadcast,multicast"),  # down: not shown
    "veth1a2b": Stats(True, "up,broadcast,running,multicast"),  # a container's cable: its traffic is counted on eth0
    "docker0": Stats(True, "up,broadcast,running,multicast"),
}


class FakeCounters:
    """psutil.net_io_counters: per interface, or summed over all of them (loopback included, as the kernel does)."""

    def __init__(self):
        self.now = {name: Counters(0, 0) for name in IF_STATS}

    def add(self, name: str, sent: int, recv: int) -> None:
        before = self.now[name]
        self.now[name] = Counters(before.bytes_sent + sent, before.bytes_recv + recv)

    def __call__(self, pernic=False, nowrap=True):
        if pernic:
            return dict(self.now)
        return Counters(sum(c.bytes_sent for c in self.now.values()), sum(c.bytes_recv for c in self.now.values()))


@pytest.fixture
def counters(monkeypatch):
    fake = FakeCounters()
    monkeypatch.setattr(system.psutil, "net_io_counters", fake)
    monkeypatch.setattr(system.psutil, "net_if_stats", lambda: IF_STATS)
    clock = iter(range(0, 1000, 2))  # two seconds between readings
    monkeypatch.setattr(system.time, "monotonic", lambda: float(next(clock)))
    return fake


def test_download_and_upload_differ_when_the_traffic_does(counters):
    sampler = system.Sampler()
    counters.add("lo", 50_000_000, 50_000_000)  # local chatter (Redis, the websockets): what made ↓ equal ↑
    counters.add("eth0", 2_000, 8_000_000)
    figures = sampler.sample()
    assert figures.net_recv_per_s == 4_000_000 and figures.net_sent_per_s == 1_000
    assert figures.net_recv_total == 8_000_000


def test_each_shown_interface_has_its_own_rates(counters):
    sampler = system.Sampler()
    counters.add("eth0", 2_000, 8_000)
    counters.add("wlan0", 600, 0)
    counters.add("veth1a2b", 9_000, 9_000)
    by_name = {i.name: i for i in sampler.sample().interfaces}
    assert sorted(by_name) == ["eth0", "wlan0"]  # no loopback, nothing down, no container plumbing
    assert (by_name["eth0"].recv_per_s, by_name["eth0"].sent_per_s) == (4_000, 1_000)
    assert (by_name["wlan0"].recv_per_s, by_name["wlan0"].sent_per_s) == (0, 300)


def test_a_counter_that_went_backwards_reads_zero_not_negative(counters):
    sampler = system.Sampler()
    counters.add("eth0", 5_000, 5_000)
    sampler.sample()
    counters.now["eth0"] = Counters(0, 0)  # the interface was reset
    assert [(i.sent_per_s, i.recv_per_s) for i in sampler.sample().interfaces if i.name == "eth0"] == [(0, 0)]


def test_the_cpu_temperature_comes_from_the_processor_sensor(monkeypatch):
    sensors = {
        "nvme": [Sensor("Composite", 38.0, 80.0, 90.0)],
        "coretemp": [Sensor("Package id 0", 51.25, 80.0, 100.0), Sensor("Core 0", 49.0, 80.0, 100.0)],
    }
    monkeypatch.setattr(system.psutil, "sensors_temperatures", lambda: sensors)
    assert system.cpu_temperature() == 51.2


def test_a_board_with_only_a_thermal_zone_reports_it(monkeypatch):
    monkeypatch.setattr(system.psutil, "sensors_temperatures", lambda: {"cpu_thermal": [Sensor("", 47.7, None, None)]})
    assert system.cpu_temperature() == 47.7


def test_no_sensor_means_no_temperature_widget(monkeypatch):
    monkeypatch.setattr(system.psutil, "sensors_temperatures", lambda: {})
    assert system.cpu_temperature() is None
    figures = system.sample_once(interval=0).as_dict()
    assert 'data-widget="temperature"' not in render_to_string("storage/partials/_stats.html", {"stats": figures})
    figures["cpu_temperature"] = 55.0
    assert "55 °C" in render_to_string("storage/partials/_stats.html", {"stats": figures})


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(59, "0 min"), (3 * 60, "3 min"), (2 * 3600 + 5 * 60, "2 h 5 min"), (3 * 86400 + 4 * 3600, "3 d 4 h")],
)
def test_uptime_reads_as_its_two_largest_units(seconds, text):
    assert uptime(seconds) == text
