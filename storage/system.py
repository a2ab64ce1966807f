"""System figures from psutil: CPU, memory, disks, network per interface and temperature, with rates computed
between samples."""

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from .usage import filesystem_usage

# Pseudo and container file systems say nothing about the user's disks.
IGNORED_FSTYPES = {"squashfs", "tmpfs", "devtmpfs", "overlay", "proc", "sysfs", "cgroup", "cgroup2", "nsfs", "autofs"}


@dataclass
class DiskFigures:
    mountpoint: str
    device: str
    fstype: str
    total: int
    used: int
    free: int
    percent: float


# Container plumbing: each byte an app sends crosses its veth, a bridge and the real interface, so showing these
# would count the same traffic again (and list one row per container).
VIRTUAL_PREFIXES = ("veth", "docker", "br-", "cni-", "podman", "virbr", "ifb", "flannel", "cali", "tun", "tap")
# Sensors that measure the processor (psutil names them after their hwmon driver or thermal zone type).
CPU_SENSORS = ("coretemp", "k10temp", "zenpower", "cpu_thermal", "cpu-thermal", "soc_thermal", "x86_pkg_temp", "acpitz")


@dataclass
class InterfaceFigures:
    name: str
    sent_per_s: float
    recv_per_s: float
    sent_total: int
    recv_total: int


@dataclass
class DiskIOFigures:
    name: str
    read_per_s: float
    write_per_s: float
    read_total: int
    write_total: int


# Block devices that are not disks a user owns: loop devices (snaps, images), RAM disks, zram swap, optical drives.
IGNORED_BLOCK_PREFIXES = ("loop", "ram", "zram", "sr", "fd")


@dataclass
class SystemFigures:
    time: float
    cpu_percent: float
    cpu_count: int
    load: tuple[float, float, float]
    memory_total: int
    memory_used: int
    memory_percent: float
    swap_percent: float
    net_sent_per_s: float
    net_recv_per_s: float
    net_sent_total: int
    net_recv_total: int
    uptime: float
    disks: list[DiskFigures] = field(default_factory=list)
    interfaces: list[InterfaceFigures] = field(default_factory=list)
    cpu_temperature: float | None = None
    disk_io: list[DiskIOFigures] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def disks() -> list[DiskFigures]:
    """One entry per mounted block file system (bind mounts of the same device counted once)."""
    seen: set[str] = set()
    found = []
    for part in psutil.disk_partitions(all=False):
        if part.fstype in IGNORED_FSTYPES or part.device in seen:
            continue
        usage = filesystem_usage(part.mountpoint)
        if usage is None:
            continue
        seen.add(part.device)
        found.append(
            DiskFigures(part.mountpoint, part.device, part.fstype, usage.total, usage.used, usage.free, usage.percent)
        )
    return found


def is_shown_interface(name: str, stats) -> bool:
    """A real interface that is up: not loopback (what it sends it receives, so it made ↓ equal ↑ in the totals),
    not container plumbing."""
    flags = getattr(stats, "flags", "") or ""
    if name == "lo" or "loopback" in flags.split(",") or name.startswith(VIRTUAL_PREFIXES):
        return False
    return bool(stats.isup)


def interface_counters() -> dict:
    """Counters of the interfaces the dashboard shows, by name."""
    stats = psutil.net_if_stats()
    counters = psutil.net_io_counters(pernic=True)
    return {name: c for name, c in counters.items() if name in stats and is_shown_interface(name, stats[name])}


def interface_rates(previous: dict, current: dict, elapsed: float) -> list[InterfaceFigures]:
    """Per-second rates of each interface between two readings (a counter reset or a new interface reads 0)."""
    figures = []
    for name, now in sorted(current.items()):
        before = previous.get(name, now)
        sent = max((now.bytes_sent - before.bytes_sent) / elapsed, 0.0)
        recv = max((now.bytes_recv - before.bytes_recv) / elapsed, 0.0)
        figures.append(InterfaceFigures(name, sent, recv, now.bytes_sent, now.bytes_recv))
    return figures


def disk_io_counters() -> dict:
    """Read/write counters of whole disks (partitions would count the same bytes twice), by device name."""
    try:
        whole = {path.name for path in Path("/sys/block").iterdir()}
        counters = psutil.disk_io_counters(perdisk=True) or {}
    except (OSError, RuntimeError):  # no /sys/block, or no /proc/diskstats
        return {}
    return {n: c for n, c in counters.items() if n in whole and not n.startswith(IGNORED_BLOCK_PREFIXES)}


def disk_io_rates(previous: dict, current: dict, elapsed: float) -> list[DiskIOFigures]:
    """Bytes read and written per second by each disk between two readings (a new disk reads 0)."""
    figures = []
    for name, now in sorted(current.items()):
        before = previous.get(name, now)
        read = max((now.read_bytes - before.read_bytes) / elapsed, 0.0)
        write = max((now.write_bytes - before.write_bytes) / elapsed, 0.0)
        figures.append(DiskIOFigures(name, read, write, now.read_bytes, now.write_bytes))
    return figures


def cpu_temperature() -> float | None:
    """The processor's temperature in °C where /sys/class/hwmon or /sys/class/thermal report one, else None."""
    try:
        sensors = psutil.sensors_temperatures()
    except (AttributeError, OSError):  # no sensors API on this platform, or /sys unreadable
        return None
    for name in (*CPU_SENSORS, *sensors):
        readings = [r.current for r in sensors.get(name, ()) if r.current and r.current > 0]
        if readings:
            return round(max(readings), 1)
    return None


class Sampler:
    """Keeps the previous network and disk counters so each sample carries per-second rates."""

    def __init__(self) -> None:
        self._last_net = interface_counters()
        self._last_io = disk_io_counters()
        self._last_time = time.monotonic()
        psutil.cpu_percent(interval=None)  # primes the CPU counter: the first call always answers 0.0

    def sample(self) -> SystemFigures:
        now = time.monotonic()
        net, io, elapsed = interface_counters(), disk_io_counters(), max(now - self._last_time, 1e-3)
        interfaces = interface_rates(self._last_net, net, elapsed)
        disk_io = disk_io_rates(self._last_io, io, elapsed)
        self._last_net, self._last_io, self._last_time = net, io, now
        memory = psutil.virtual_memory()
        return SystemFigures(
            time=time.time(),
            cpu_percent=psutil.cpu_percent(interval=None),
            cpu_count=psutil.cpu_count() or 1,
            load=os.getloadavg(),
            memory_total=memory.total,
            memory_used=memory.total - memory.available,
            memory_percent=memory.percent,
            swap_percent=psutil.swap_memory().percent,
            net_sent_per_s=sum(i.sent_per_s for i in interfaces),
            net_recv_per_s=sum(i.recv_per_s for i in interfaces),
            net_sent_total=sum(i.sent_total for i in interfaces),
            net_recv_total=sum(i.recv_total for i in interfaces),
            uptime=time.time() - psutil.boot_time(),
            disks=disks(),
            interfaces=interfaces,
            cpu_temperature=cpu_temperature(),
            disk_io=disk_io,
        )


def sample_once(interval: float = 0.2) -> SystemFigures:
    """A standalone sample (when no sampler process is running): measures over a short interval."""
    sampler = Sampler()
    time.sleep(interval)
    return sampler.sample()
