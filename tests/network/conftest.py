"""A network namespace with a veth pair (this kernel has no `dummy` type), and a NetworkManager of the test's own
inside it, on a private dbus-daemon: the Network page's host module reads and changes them for real."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""
# keyfile profiles in the test's folder, no DNS or resolv.conf handling, no profiles made for devices on its own.
NM_CONFIG = """[main]
plugins=keyfile
no-auto-default=*
auth-polkit=false
dns=none
rc-manager=unmanaged
[keyfile]
path={profiles}
"""


def ip(*argv: str) -> str:
    return subprocess.run(["ip", *argv], check=True, capture_output=True, text=True).stdout


@dataclass
class Namespace:
    """A namespace with `inner` (the box's interface, 10.231.0.2/24) paired with `outer` (the "router", .1)."""

    name: str
    inner: str
    outer: str

    @property
    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def run(self, *argv: str) -> str:
        return subprocess.run([*self.prefix, *argv], check=True, capture_output=True, text=True).stdout


def _can_make_namespaces() -> str:
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 is not installed"
    return ""


@pytest.fixture
def netns():
    reason = _can_make_namespaces()
    if reason:
        pytest.skip(reason)
    tag = secrets.token_hex(3)
    ns = Namespace(name=f"casa-net-{tag}", inner=f"cn{tag}a", outer=f"cn{tag}b")
    resolv = Path("/etc/netns") / ns.name
    ip("netns", "add", ns.name)
    try:
        _wire(ns, resolv)
        yield ns
    finally:
        ip("netns", "del", ns.name)
        shutil.rmtree(resolv, ignore_errors=True)


def _wire(ns: Namespace, resolv: Path) -> None:
    ip("-n", ns.name, "link", "add", ns.inner, "type", "veth", "peer", "name", ns.outer)
    ip("-n", ns.name, "link", "set", "lo", "up")
    ip("-n", ns.name, "addr", "add", "10.231.0.1/24", "dev", ns.outer)
    for name in (ns.inner, ns.outer):
        ip("-n", ns.name, "link", "set", name, "up")
    # `ip netns exec` shows /etc/netns/<name>/resolv.conf as the namespace's /etc/resolv.conf.
    resolv.mkdir(parents=True, exist_ok=True)
    (resolv / "resolv.conf").write_text("# test\nnameserver 10.231.0.53\nnameserver 2001:db8::53\n")


@pytest.fixture
def addressed(netns):
    """The namespace with the box's address and a default route through the "router"."""
    ip("-n", netns.name, "addr", "add", "10.231.0.2/24", "dev", netns.inner)
    ip("-n", netns.name, "route", "add", "default", "via", "10.231.0.1", "dev", netns.inner)
    return netns


# ---------------------------------------------------------------------------- NetworkManager
@dataclass
class PrivateNM:
    """A NetworkManager in the namespace, on its own bus: `address` is what our client is pointed at."""

    ns: Namespace
    address: str
    folder: Path


def _start_bus(folder: Path) -> tuple[subprocess.Popen, str]:
    socket = folder / "bus"
    (folder / "bus.conf").write_text(BUS_CONFIG.format(socket=socket))
    bus = subprocess.Popen(["dbus-daemon", "--nofork", f"--config-file={folder / 'bus.conf'}"])
    _wait(lambda: socket.exists(), "dbus-daemon made no socket")
    return bus, f"unix:path={socket}"


def _start_nm(ns: Namespace, folder: Path, address: str) -> subprocess.Popen:
    (folder / "profiles").mkdir()
    (folder / "nm.conf").write_text(NM_CONFIG.format(profiles=folder / "profiles"))
    # NetworkManager waits for udev to announce each device unless /sys is read-only (what it takes as "a container,
    # no udev"): its own mount namespace inside the network namespace, with /sys remounted read-only, and its runtime
    # and state folders on tmpfs there, so the host's /run and /var/lib/NetworkManager stay as they were.
    script = (
        "mount -o remount,ro /sys && mkdir -p /run/NetworkManager /var/lib/NetworkManager"
        " && mount -t tmpfs tmpfs /run/NetworkManager && mount -t tmpfs tmpfs /var/lib/NetworkManager"
        ' && exec "$@"'
    )
    nm = [
        "NetworkManager", "--no-daemon", f"--config={folder / 'nm.conf'}", f"--state-file={folder / 'state'}",
    ]  # fmt: skip
    log = (folder / "nm.log").open("w")
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address}
    return subprocess.Popen(
        [*ns.prefix, "unshare", "--mount", "--", "sh", "-c", script, "sh", *nm], env=env, stdout=log, stderr=log
    )


def _wait(ready, message: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(message)


def _nm_manages(address: str, device: str) -> bool:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address}
    done = subprocess.run(["nmcli", "-t", "-f", "DEVICE,STATE", "device"], env=env, capture_output=True, text=True)
    return f"{device}:disconnected" in done.stdout or f"{device}:connected" in done.stdout


@pytest.fixture
def private_nm(netns, tmp_path, settings):
    """NetworkManager 1.42 managing the namespace's veth; the Network page's client pointed at its bus."""
    for tool in ("dbus-daemon", "NetworkManager", "nmcli", "gdbus", "unshare"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/setup.sh installs it)")
    folder = tmp_path / "nm"
    folder.mkdir()
    bus, address = _start_bus(folder)
    nm = _start_nm(netns, folder, address)
    try:
        _wait(lambda: _nm_manages(address, netns.inner), f"NetworkManager did not manage {netns.inner}: see nm.log")
        settings.NETWORK_DBUS_ADDRESS = address
        settings.NETWORK_HOST_PREFIX = netns.prefix
        yield PrivateNM(ns=netns, address=address, folder=folder)
    finally:
        for process in (nm, bus):
            process.terminate()
            process.wait(timeout=10)
