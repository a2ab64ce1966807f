"""What the firewall enforces, read from the database and the box's interfaces: the one source for the rules, the
API and the Network page."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings

from apps.models import Installation
from network.host.links import Links
from proxy.models import AppAddress
from storage.host.errors import HostError

from .host.nft import Guard, Network, Nft, Ruleset, ports_of

# Private ranges (RFC 1918, IPv6 unique local and link-local): Python's is_private also counts documentation and
# benchmark ranges, which are not anyone's home network.
PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10")
)


def firewall_lan() -> list[Network]:
    """The LAN: CASAOS_FIREWALL_LAN's networks, or (auto) the private subnets of the box's interfaces."""
    given = [ipaddress.ip_network(n, strict=False) for n in settings.FIREWALL_LAN if n != "auto"]
    if "auto" not in settings.FIREWALL_LAN:
        return given
    return sorted(set(given) | set(_connected_private()), key=lambda n: (n.version, n))


def _connected_private() -> list[Network]:
    # Every interface counts, container bridges and VPN tunnels included: a container reaching another app through
    # the box's address, or a phone on the box's WireGuard, is at home.
    found = []
    for iface in Links().interfaces():
        for addr in iface.addresses:
            net = ipaddress.ip_network(addr.cidr, strict=False)
            if iface.kind != "loopback" and any(net.subnet_of(p) for p in PRIVATE if p.version == net.version):
                found.append(net)
    return found


def firewall_openings() -> list[dict[str, Any]]:
    """Each published app port: protocol, port, app, and whether anyone (public) or only the LAN may reach it."""
    public = set(AppAddress.objects.filter(public=True).values_list("installation_id", flat=True))
    rows = Installation.objects.exclude(status__in=Installation.ENDED).order_by("name")
    return [
        {"protocol": protocol, "port": port, "app": inst.name, "app_id": inst.pk, "title": str(inst),
         "access": "public" if inst.pk in public else "lan"}
        for inst in rows.only("pk", "name", "title", "ports")
        for protocol, port in ports_of(inst.ports or ())
    ]  # fmt: skip


def firewall_admin_ports() -> list[dict[str, Any]]:
    """The admin UI's ports: always LAN-only."""
    return [{"protocol": "tcp", "port": port, "access": "lan"} for port in settings.FIREWALL_ADMIN_PORTS]


def firewall_ruleset(*, lan: list[Network] | None = None) -> Ruleset:
    """The table to load: the LAN, and a guard for each admin port and each port of an app that is not public."""
    apps = [Guard(o["protocol"], o["port"], f"app {o['app']}") for o in firewall_openings() if o["access"] == "lan"]
    admin = [Guard(a["protocol"], a["port"], "admin") for a in firewall_admin_ports()]
    return Ruleset(lan=tuple(firewall_lan() if lan is None else lan), guards=tuple(admin + apps))


def firewall_overview() -> dict[str, Any]:
    """What is open and to whom, and whether the rules are in force on this box right now.

    `state`: "off" (CASAOS_FIREWALL is not set: every port is open to whoever can reach the box), "enforced" (our
    table is loaded), "pending" (on, but the worker has not loaded it yet) or "error" (`error` says why).
    """
    overview = {"enabled": settings.FIREWALL, "state": "off", "error": "", "lan": []}
    overview.update(admin=firewall_admin_ports(), ports=firewall_openings())
    try:
        overview["lan"] = [str(n) for n in firewall_lan()]
        loaded = bool(Nft().listing()) if settings.FIREWALL else False
    except HostError as exc:
        overview.update(state="error", error=str(exc))
        return overview
    if settings.FIREWALL:
        overview["state"] = "enforced" if loaded else "pending"
    return overview
