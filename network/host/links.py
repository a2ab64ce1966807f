"""Interfaces, addresses, routes and DNS servers as the kernel reports them: `ip -j` (JSON), /sys and resolv.conf.

Every command goes through storage/host/command.py's run() (argv lists, C locale, a time limit). `prefix` is an argv
put before each one: none on the box; `ip netns exec <name>` in tests, which read a veth pair in a namespace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from storage.host.command import run
from storage.host.errors import HostError, ParseError

TIMEOUT = 10
RESOLV_CONF = "/etc/resolv.conf"
# Container plumbing and loopback are not the box's network: the same list the home widget leaves out.
HIDDEN_PREFIXES = ("veth", "docker", "br-", "cni-", "podman", "virbr", "ifb", "flannel", "cali")


@dataclass(frozen=True)
class Address:
    """One address of an interface, with its prefix length."""

    address: str
    prefix: int
    family: str  # "inet" or "inet6"
    dynamic: bool  # handed out by DHCP or router advertisements (it has a lifetime)

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefix}"


@dataclass(frozen=True)
class Interface:
    """A network interface: its state, hardware address, link speed and addresses."""

    name: str
    mac: str
    state: str  # the kernel's operstate: UP, DOWN, UNKNOWN, LOWERLAYERDOWN...
    up: bool  # administratively up (the UP flag)
    kind: str  # "ether", "loopback", or a link kind such as "veth"
    mtu: int
    speed_mbps: int | None  # None where the link is down or the driver does not say
    addresses: tuple[Address, ...] = field(default_factory=tuple)

    @property
    def hidden(self) -> bool:
        return self.kind == "loopback" or self.name.startswith(HIDDEN_PREFIXES)


@dataclass(frozen=True)
class Route:
    """The default route: where traffic leaves this box."""

    gateway: str
    interface: str
    family: str


def _json(argv: list[str]) -> list:
    text = run(argv, timeout=TIMEOUT)
    try:
        data = json.loads(text or "[]")
    except ValueError as exc:
        raise ParseError(f"{argv[0]} gave no JSON", argv=tuple(argv), stderr=text[:200]) from exc
    if not isinstance(data, list):
        raise ParseError(f"{argv[0]} gave no list", argv=tuple(argv))
    return data


@dataclass(frozen=True)
class Links:
    """Reads the network state of the host (or of a namespace, through `prefix`)."""

    prefix: tuple[str, ...] = ()

    def _argv(self, *argv: str) -> list[str]:
        return [*self.prefix, *argv]

    def interfaces(self) -> list[Interface]:
        """Every interface with its addresses (`ip -j -d addr`: link and addresses in one listing) and speed."""
        entries = _json(self._argv("ip", "-j", "-d", "addr", "show"))
        speeds = self.speeds([e.get("ifname", "") for e in entries])
        return [_interface(entry, speeds.get(entry.get("ifname", ""))) for entry in entries]

    def speeds(self, names: list[str]) -> dict[str, int]:
        """Link speed in Mb/s by interface, from /sys/class/net/<name>/speed, in one command for all of them."""
        files = [f"/sys/class/net/{name}/speed" for name in names if _safe_name(name)]
        if not files:
            return {}
        # grep -H prints "file:value"; -s skips the files a down link refuses to read (EINVAL); status 2 then.
        text = run(self._argv("grep", "-H", "-s", "-e", ".", "--", *files), timeout=TIMEOUT, ok_codes=(0, 1, 2))
        return dict(_speed_line(line) for line in text.splitlines() if _speed_line(line))

    def default_routes(self) -> list[Route]:
        """The default routes of IPv4 then IPv6 (`ip -j route show default`)."""
        found = []
        for family, flag in (("inet", "-4"), ("inet6", "-6")):
            for entry in _json(self._argv("ip", "-j", flag, "route", "show", "default")):
                found.append(Route(gateway=entry.get("gateway", ""), interface=entry.get("dev", ""), family=family))
        return found

    def dns_servers(self) -> list[str]:
        """The name servers resolv.conf lists (what the box's own lookups use)."""
        try:
            text = run(self._argv("cat", "--", RESOLV_CONF), timeout=TIMEOUT)
        except HostError:
            return []
        return resolv_servers(text)


def _safe_name(name: str) -> bool:
    # Names come from `ip` itself; this only keeps a strange one from making a path outside /sys/class/net.
    return bool(name) and "/" not in name and name not in (".", "..") and not name.startswith("-")


def _speed_line(line: str) -> tuple[str, int] | None:
    path, _sep, value = line.rpartition(":")
    name = path.removeprefix("/sys/class/net/").removesuffix("/speed")
    try:
        speed = int(value)
    except ValueError:
        return None
    return (name, speed) if speed > 0 else None  # -1: "unknown" (a down link on some drivers)


def _interface(entry: dict, speed: int | None) -> Interface:
    info = entry.get("linkinfo", {}).get("info_kind", "")
    return Interface(
        name=entry.get("ifname", ""),
        mac=entry.get("address", "") if entry.get("link_type") != "loopback" else "",
        state=entry.get("operstate", "UNKNOWN"),
        up="UP" in entry.get("flags", []),
        kind=info or entry.get("link_type", ""),
        mtu=int(entry.get("mtu", 0)),
        speed_mbps=speed,
        addresses=tuple(_address(a) for a in entry.get("addr_info", []) if a.get("local")),
    )


def _address(info: dict) -> Address:
    lifetime = info.get("valid_life_time", 4294967295)
    return Address(
        address=info["local"],
        prefix=int(info.get("prefixlen", 0)),
        family=info.get("family", "inet"),
        dynamic=bool(info.get("dynamic")) or lifetime != 4294967295,
    )


def resolv_servers(text: str) -> list[str]:
    """The `nameserver` lines of a resolv.conf, in order."""
    servers = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == "nameserver":
            servers.append(words[1])
    return servers
