"""System figures from psutil: CPU, memory, disks and network, with rates computed between samples."""

import os
import time
from dataclasses import asdict, dataclass, field

import psutil

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

    def as_dict(self) -> dict:
        return asdict(self)


def disks() -> list[DiskFigures]:
    """One entry per mounted block file system (bind mounts of the same device counted once)."""
    seen: set[str] = set()
    found = []
    for part in psutil.disk_partitions(all=False):
        if part.fstype in IGNORED_FSTYPES or part.device in seen:
            continue
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        seen.add(part.device)
        found.append(
            DiskFigures(part.mountpoint, part.device, part.fstype, usage.total, usage.used, usage.free, usage.percent)
        )
    return found


class Sampler:
    """Keeps the previous network counters so each sample carries per-second rates."""

    def __init__(self) -> None:
        self._last_net = psutil.net_io_counters()
        self._last_time = time.monotonic()
        psutil.cpu_percent(interval=None)  # primes the CPU counter: the first call always answers 0.0

    def sample(self) -> SystemFigures:
        now = time.monotonic()
        net = psutil.net_io_counters()
        elapsed = max(now - self._last_time, 1e-3)
        sent = (net.bytes_sent - self._last_net.bytes_sent) / elapsed
        recv = (net.bytes_recv - self._last_net.bytes_recv) / elapsed
        self._last_net, self._last_time = net, now
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
            net_sent_per_s=max(sent, 0.0),
            net_recv_per_s=max(recv, 0.0),
            net_sent_total=net.bytes_sent,
            net_recv_total=net.bytes_recv,
            uptime=time.time() - psutil.boot_time(),
            disks=disks(),
        )


def sample_once(interval: float = 0.2) -> SystemFigures:
    """A standalone sample (when no sampler process is running): measures over a short interval."""
    sampler = Sampler()
    time.sleep(interval)
    return sampler.sample()
