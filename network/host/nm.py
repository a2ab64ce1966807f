"""NetworkManager through its own command-line clients: `nmcli` for devices and connection profiles, `gdbus` for the
checkpoints (CheckpointCreate/Destroy on org.freedesktop.NetworkManager), the safety net Cockpit uses.

nmcli does not honour `--`: every value we pass is checked first (network/checks.py), interface names and
connection ids come from NetworkManager's own listing, and the argv is built here only. `bus_address` is a D-Bus
address to talk to instead of the system bus (tests: a private dbus-daemon with a NetworkManager of their own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.host.command import run
from storage.host.errors import CommandFailed, HostError, ParseError, ToolMissing

TIMEOUT = 30
NM = "org.freedesktop.NetworkManager"
NM_PATH = "/org/freedesktop/NetworkManager"
DEVICE_PATH = re.compile(r"^/org/freedesktop/NetworkManager/Devices/\d+$")
CHECKPOINT_PATH = re.compile(r"^/org/freedesktop/NetworkManager/Checkpoint/\d+$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# CheckpointCreate flags: a profile made after the checkpoint is deleted again by a rollback.
DELETE_NEW_CONNECTIONS = 0x02
PROFILE_PREFIX = "casaos-"  # the profile we make for an interface that has none


@dataclass(frozen=True)
class Device:
    """A device as NetworkManager sees it."""

    name: str
    type: str
    state: str  # "connected", "disconnected", "unmanaged", "unavailable", "connected (externally)"...
    connection: str
    path: str  # its D-Bus object path

    @property
    def managed(self) -> bool:
        return self.state not in ("unmanaged", "unavailable") and self.type not in ("loopback", "bridge", "tun")


@dataclass(frozen=True)
class Status:
    """Whether NetworkManager answers here, and why not."""

    running: bool
    reason: str = ""


@dataclass(frozen=True)
class IPv4Plan:
    """What to set on an interface: DHCP (`auto`), or a static address with gateway and name servers."""

    method: str  # "auto" or "manual"
    address: str = ""  # "192.168.1.20/24" with manual
    gateway: str = ""
    dns: tuple[str, ...] = ()


def split_terse(line: str) -> list[str]:
    """One line of `nmcli -t` output into its fields (`\\:` is a colon inside a field, `\\\\` a backslash)."""
    fields, current, escaped = [], [], False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def plan_settings(plan: IPv4Plan) -> list[str]:
    """The `nmcli connection` property arguments for a plan (every value checked before it gets here)."""
    manual = plan.method == "manual"
    return [
        "ipv4.method",
        "manual" if manual else "auto",
        "ipv4.addresses",
        plan.address if manual else "",
        "ipv4.gateway",
        plan.gateway if manual else "",
        "ipv4.dns",
        ",".join(plan.dns),
        "ipv4.ignore-auto-dns",
        "yes" if plan.dns else "no",  # the admin's name servers replace DHCP's, not add to them
    ]


@dataclass(frozen=True)
class NetworkManager:
    """The host's NetworkManager (or the one on `bus_address`)."""

    bus_address: str = ""

    def _nmcli(self, *argv: str, ok_codes=(0,)) -> str:
        env = ["env", f"DBUS_SYSTEM_BUS_ADDRESS={self.bus_address}"] if self.bus_address else []
        return run([*env, "nmcli", *argv], timeout=TIMEOUT, ok_codes=ok_codes)

    def _gdbus(self, method: str, *args: str) -> str:
        bus = ["--address", self.bus_address] if self.bus_address else ["--system"]
        argv = ["gdbus", "call", *bus, "--dest", NM, "--object-path", NM_PATH, "--method", method, *args]
        return run(argv, timeout=TIMEOUT)

    # ------------------------------------------------------------------------ reading
    def status(self) -> Status:
        """Running, or not with the reason in plain words."""
        try:
            answer = self._nmcli("-t", "-f", "RUNNING", "general").strip()
        except ToolMissing:
            return Status(False, "nmcli is not installed")
        except HostError as exc:
            return Status(False, _not_running(exc))
        return Status(answer == "running", "" if answer == "running" else "its service is stopped")

    def devices(self) -> dict[str, Device]:
        """NetworkManager's devices by interface name."""
        text = self._nmcli("-t", "-f", "DEVICE,TYPE,STATE,CONNECTION,DBUS-PATH", "device")
        found = {}
        for line in text.splitlines():
            fields = split_terse(line)
            if len(fields) == 5:
                found[fields[0]] = Device(*fields)
        return found

    def connection_uuid(self, device: Device) -> str:
        """The UUID of the profile active on the device, or ""."""
        text = self._nmcli("-t", "-f", "GENERAL.CON-UUID", "device", "show", device.name)
        uuid = text.strip().partition(":")[2]
        return uuid if UUID.match(uuid) else ""

    def dns_servers(self) -> list[str]:
        """The name servers NetworkManager gave the devices it manages, in order, each once."""
        text = self._nmcli("-t", "-f", "IP4.DNS,IP6.DNS", "device", "show")
        servers = [split_terse(line)[-1] for line in text.splitlines() if line.startswith(("IP4.DNS", "IP6.DNS"))]
        return list(dict.fromkeys(s for s in servers if s))

    # ------------------------------------------------------------------------ changing
    def apply(self, device: Device, plan: IPv4Plan) -> str:
        """Put the plan on the device's profile (one is made when it has none) and activate it; its UUID."""
        uuid = self.connection_uuid(device)
        if uuid:
            self._nmcli("connection", "modify", "uuid", uuid, *plan_settings(plan))
        else:
            uuid = self._add(device, plan)
        self._nmcli("connection", "up", "uuid", uuid)
        return uuid

    def _add(self, device: Device, plan: IPv4Plan) -> str:
        name = PROFILE_PREFIX + device.name
        text = self._nmcli(
            "connection", "add", "type", "ethernet", "ifname", device.name, "con-name", name, *plan_settings(plan)
        )
        match = re.search(r"\(([0-9a-f-]{36})\)", text)
        if not match:
            raise ParseError("nmcli did not say which profile it made", stderr=text)
        return match.group(1)

    def checkpoint_create(self, devices: list[Device], *, timeout: int) -> str:
        """A checkpoint of the devices that NetworkManager rolls back by itself after `timeout` seconds; its path."""
        paths = [d.path for d in devices if DEVICE_PATH.match(d.path)]
        listing = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
        text = self._gdbus(f"{NM}.CheckpointCreate", listing, str(int(timeout)), str(DELETE_NEW_CONNECTIONS))
        match = re.search(r"'(/org/freedesktop/NetworkManager/Checkpoint/\d+)'", text)
        if not match:
            raise ParseError("NetworkManager did not say which checkpoint it made", stderr=text)
        return match.group(1)

    def checkpoint_destroy(self, path: str) -> bool:
        """Keep the change: destroy the checkpoint. False when it is gone already (rolled back)."""
        if not CHECKPOINT_PATH.match(path):
            raise ValueError(path)
        try:
            self._gdbus(f"{NM}.CheckpointDestroy", path)
        except CommandFailed as exc:
            if "does not exist" in exc.stderr:
                return False
            raise
        return True

    def checkpoint_rollback(self, path: str) -> None:
        """Go back to the checkpoint now (a change that failed half-way need not wait for the timeout)."""
        if not CHECKPOINT_PATH.match(path):
            raise ValueError(path)
        self._gdbus(f"{NM}.CheckpointRollback", path)

    def checkpoints(self) -> list[str]:
        """The checkpoints that still wait for their timeout."""
        text = self._gdbus("org.freedesktop.DBus.Properties.Get", NM, "Checkpoints")
        return re.findall(r"'(/org/freedesktop/NetworkManager/Checkpoint/\d+)'", text)


def _not_running(exc: HostError) -> str:
    words = exc.stderr or str(exc)
    if "Could not connect" in words:
        return "no system D-Bus to reach it on"
    if "not running" in words:
        return "its service is stopped"
    return words
