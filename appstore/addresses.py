"""Which addresses a store download may connect to: pure rules, no network (appstore/fetch.py applies them).

Three kinds: public (always allowed), lan (loopback, private, CGNAT and other non-public ranges: only with the
admin's "stores on this machine and the local network" switch) and never (link-local and cloud metadata
services, the classic SSRF targets, refused whatever the switch says).
"""

from __future__ import annotations

import ipaddress
from typing import Literal

Kind = Literal["public", "lan", "never"]
IP = ipaddress.IPv4Address | ipaddress.IPv6Address

# The one list of what is never fetched from, not even with LAN stores allowed.
NEVER = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",  # IPv4 link-local; 169.254.169.254 is the metadata service of AWS, GCP, Azure, OpenStack,
        # DigitalOcean, Oracle, Hetzner...; 169.254.170.2 is AWS ECS task credentials
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::/32",  # AWS over IPv6: metadata fd00:ec2::254, DNS fd00:ec2::253, NTP fd00:ec2::123
        "fd20:ce::254/128",  # Google Cloud metadata over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "168.63.129.16/32",  # Azure WireServer (host agent; a public-looking address)
        "192.0.0.192/32",  # Oracle Cloud (classic) metadata
    )
)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits: NAT64 and the old IPv4-compatible form.
_V4_IN_LOW_BITS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"))


def _embedded(ip: IP) -> list[IP]:
    """The IPv4 addresses an IPv6 address leads to (mapped, NAT64, 6to4, Teredo), since the network may translate."""
    if ip.version == 4:
        return []
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if any(ip in net for net in _V4_IN_LOW_BITS):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [v4 for v4 in found if v4 is not None]


def _never(ip: IP) -> bool:
    return ip.is_multicast or ip.is_unspecified or any(ip in net for net in NEVER)


def address_kind(address: str) -> Kind:
    """public, lan or never for one IP address (a "%scope" suffix is ignored), judged with what it embeds."""
    ip = ipaddress.ip_address(address.split("%")[0])
    ips = [ip, *_embedded(ip)]
    if any(_never(one) for one in ips):
        return "never"
    return "public" if all(one.is_global for one in ips) else "lan"


def address_allowed(address: str, *, allow_lan: bool) -> bool:
    """Public addresses always; lan ones only when LAN stores are allowed; never ones never."""
    kind = address_kind(address)
    return kind == "public" or (kind == "lan" and allow_lan)
