"""Small subnets for app networks from our own pool, so thirty apps do not exhaust the engine's default pools.

Docker gives every network without an explicit subnet a whole /16 (then /20s) of its default pools: about 30
networks and it refuses the next ("could not find an available, non-overlapping IPv4 address pool"). An app
network needs a handful of addresses; we give each one a /24 (by default) of a pool that keeps clear of the
ranges home networks use (192.168.0.0/16, 10.0.0.0/8).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from runtime.specs import IpamSpec, NetworkSpec

Subnet = ipaddress.IPv4Network
DEFAULT_POOL = ("172.24.0.0/13",)
DEFAULT_PREFIX = 24
SPREAD = 8  # choose among the first free subnets at random: workers allocating at once rarely collide


@dataclass(frozen=True)
class SubnetPool:
    """Where app networks take their subnets from, and how big each one is."""

    networks: tuple[Subnet, ...]
    prefix: int = DEFAULT_PREFIX

    @classmethod
    def parse(cls, networks: Iterable[str], prefix: int = DEFAULT_PREFIX) -> SubnetPool:
        """From CIDR texts; ValueError says what is wrong with them."""
        parsed = tuple(_network(text) for text in networks)
        if not parsed:
            raise ValueError("the app subnet pool is empty")
        if not 16 <= prefix <= 29:
            raise ValueError(f"app subnets must be between /16 and /29, not /{prefix}")
        small = [str(n) for n in parsed if n.prefixlen > prefix]
        if small:
            raise ValueError(f"{small[0]} is smaller than one /{prefix} app subnet")
        return cls(networks=parsed, prefix=prefix)

    @property
    def capacity(self) -> int:
        """How many app networks the pool holds."""
        return sum(2 ** (self.prefix - n.prefixlen) for n in self.networks)

    def __str__(self) -> str:
        return ", ".join(str(n) for n in self.networks)

    def free(self, used: Iterable[Subnet]) -> Iterator[Subnet]:
        """Subnets of the pool overlapping none of `used`, lowest first."""
        taken = sorted(set(used), key=lambda n: (n.network_address, n.prefixlen))
        for network in self.networks:
            clashes = [t for t in taken if t.overlaps(network)]
            for candidate in network.subnets(new_prefix=self.prefix):
                if not any(candidate.overlaps(t) for t in clashes):
                    yield candidate

    def choose(self, used: Iterable[Subnet], spread: int = SPREAD) -> Subnet | None:
        """One free subnet among the `spread` lowest (so foreign networks keep most of the rest), or None when full."""
        first = []
        for candidate in self.free(used):
            first.append(candidate)
            if len(first) == spread:
                break
        return random.choice(first) if first else None


def wants_pool(spec: NetworkSpec) -> bool:
    """A bridge network the file gives no subnet of its own: it takes one from the pool."""
    ipam = spec.ipam
    own = ipam is not None and (ipam.config or ipam.driver not in ("", "default"))
    return not spec.external and spec.driver in ("", "bridge") and not own


def with_subnet(spec: NetworkSpec, subnet: Subnet) -> NetworkSpec:
    """The network asking the engine for exactly this subnet (options of the file's ipam block kept)."""
    options = spec.ipam.options if spec.ipam else {}
    return replace(spec, ipam=IpamSpec(config=({"subnet": str(subnet)},), options=dict(options)))


def _network(text: str) -> Subnet:
    network = ipaddress.ip_network(text.strip(), strict=True)
    if not isinstance(network, ipaddress.IPv4Network):
        raise ValueError(f"{text} is not an IPv4 network")
    return network


def parse_subnets(texts: Iterable[str]) -> list[Subnet]:
    """The IPv4 networks among texts such as an engine's IPAM subnets (IPv6 and junk are left out)."""
    result = []
    for text in texts:
        try:
            network = ipaddress.ip_network(str(text).strip(), strict=False)
        except ValueError:
            continue
        if isinstance(network, ipaddress.IPv4Network):
            result.append(network)
    return result


def host_routes(path: Path = Path("/proc/net/route")) -> list[Subnet]:
    """IPv4 networks this machine routes to (its LANs, VPNs): an app subnet on top of one would cut it off.

    Docker does not check this for an explicit subnet (Podman does). The default route is left out.
    """
    try:
        lines = path.read_text().splitlines()[1:]
    except OSError:
        return []
    routes = []
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        destination, mask = _hex_address(fields[1]), _hex_address(fields[7])
        if destination is None or mask is None or mask == "0.0.0.0":
            continue
        routes.extend(parse_subnets([f"{destination}/{mask}"]))
    return routes


def _hex_address(text: str) -> str | None:
    """/proc/net/route writes addresses as little-endian hex."""
    try:
        return str(ipaddress.IPv4Address(int(text, 16).to_bytes(4, "little")))
    except ValueError:
        return None
