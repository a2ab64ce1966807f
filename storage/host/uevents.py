"""Kernel uevents of block devices, read from netlink with pyudev (the kernel source: no udevd needed)."""

from __future__ import annotations

import time

from .errors import HostError

SETTLE = 0.3  # a plug is a burst (the disk, then each partition): one look after the burst, not one per event
BURST_MAX = 3.0  # ... but a device that never stops talking still gets looked at


class Unavailable(HostError):
    """No netlink socket for uevents here (a container without it, a missing libudev): poll instead."""


def block_monitor():
    """A started netlink monitor of the kernel's block uevents."""
    try:
        import pyudev

        monitor = pyudev.Monitor.from_netlink(pyudev.Context(), source="kernel")
        monitor.filter_by("block")
        monitor.start()
    except (ImportError, OSError) as exc:
        raise Unavailable(f"no kernel uevents: {exc}") from exc
    return monitor


def wait_for_change(monitor, timeout: float) -> bool:
    """True when block uevents came within `timeout`; the rest of their burst is read before returning."""
    if monitor.poll(timeout=timeout) is None:
        return False
    until = time.monotonic() + BURST_MAX
    while time.monotonic() < until and monitor.poll(timeout=SETTLE) is not None:
        pass
    return True
