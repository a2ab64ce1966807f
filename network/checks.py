"""Every value a client sends before it reaches nmcli: nmcli has no `--`, so nothing unchecked may reach its argv."""

from __future__ import annotations

import ipaddress
import re

from casaos_site.i18n import deferred, shown

# Linux interface names: 1-15 characters, no slash, no space; we also refuse a leading "-" (an option to nmcli).
_INTERFACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}$")
MAX_DNS = 3  # what resolv.conf honours


class NetworkRefused(Exception):
    """A change refused with a reason the user reads; `field` names the value at fault."""

    def __init__(self, message: str, *, field: str = "", code: str = "invalid", status: int = 400) -> None:
        self.stored = message  # a deferred() id and parameters: what a task records, shown in each reader's words
        self.message = shown(message)  # in the language active now (a request's)
        super().__init__(self.message)
        self.field = field
        self.code = code
        self.status = status


def check_interface_name(name: str) -> str:
    if not _INTERFACE.match(name or ""):
        raise NetworkRefused(deferred("“%(name)s” is not an interface name.", name=name), field="interface")
    return name


def check_address(value: str) -> ipaddress.IPv4Interface:
    """A static IPv4 address with its prefix length, a usable host address of its subnet."""
    try:
        iface = ipaddress.IPv4Interface(value.strip()) if "/" in value else None
    except ValueError:
        iface = None
    if iface is None or not 8 <= iface.network.prefixlen <= 30 or not _usable(iface):
        raise NetworkRefused(
            deferred("Give the address with its prefix length, for example 192.168.1.20/24."), field="address"
        )
    return iface


def _usable(iface: ipaddress.IPv4Interface) -> bool:
    ip = iface.ip
    special = ip.is_loopback or ip.is_multicast or ip.is_unspecified or ip.is_link_local or ip.is_reserved
    return not special and ip not in (iface.network.network_address, iface.network.broadcast_address)


def check_gateway(value: str, address: ipaddress.IPv4Interface) -> str:
    """The router: an IPv4 address inside the static address's subnet, not the address itself ("" = none)."""
    if not value.strip():
        return ""
    try:
        gateway = ipaddress.IPv4Address(value.strip())
    except ValueError:
        gateway = None
    if gateway is None or gateway not in address.network or gateway == address.ip:
        raise NetworkRefused(
            deferred(
                "The gateway must be another address in %(network)s, for example your router's.",
                network=str(address.network),
            ),
            field="gateway",
        )
    return str(gateway)


def check_dns(values: list[str]) -> tuple[str, ...]:
    """Up to three name servers, IPv4 or IPv6 addresses."""
    servers = [v.strip() for v in values if v.strip()]
    try:
        parsed = tuple(str(ipaddress.ip_address(v)) for v in servers)
    except ValueError:
        parsed = None
    if parsed is None or len(parsed) > MAX_DNS:
        raise NetworkRefused(
            deferred("Name servers are up to three IP addresses, for example 1.1.1.1 and 9.9.9.9."), field="dns"
        )
    return parsed


def dns_list(text: str) -> list[str]:
    """Name servers typed in one field, separated by commas or spaces."""
    return [part for part in re.split(r"[,\s]+", text or "") if part]
