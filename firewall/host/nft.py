"""Our own nftables table, `table inet casaos`, rendered from data and loaded as a whole with `nft -f -`.

The text is built from typed values only (ports as ints, protocols from an allowlist, networks as ipaddress objects,
comments reduced to a safe alphabet), so nothing a user typed can become nft syntax. Loading is one nft transaction:
the table is created if missing, deleted and written anew, so the kernel holds either the old rules or the new ones,
never half of them. Nothing outside our table is read or changed: not Docker's tables, not the host's own.

What the rules do (docs/firewall.md): a connection whose *original* destination port is guarded, and whose original
source is outside the LAN, is refused. Both paths a published port is reached by are covered:
- `input`: the box itself answers (the admin UI, host-network apps, Podman's rootless port forwarder, docker-proxy);
- `forward`: Docker or Podman rewrote the destination to a container (DNAT in their nat tables); conntrack still
  knows the port the client asked for (`ct original proto-dst`), and the chain runs before Docker's FORWARD and
  DOCKER-USER (priority filter - 10 < filter), so Docker's own accept cannot let the connection past us.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from storage.host.command import run
from storage.host.errors import CommandFailed

TABLE = "casaos"
FAMILY = "inet"
TIMEOUT = 20
PROTOCOLS = ("tcp", "udp")
PRIORITY = "filter - 10"  # before iptables-nft's and iptables-legacy's filter chains (priority 0), Docker's included
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._:/-]")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Guard:
    """A port only the LAN may open connections to (an app that is not public, or the admin UI)."""

    protocol: str
    port: int
    label: str  # shown in `nft list table inet casaos` as the rule's comment: "admin", "app nextcloud"

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol {self.protocol!r} is not one of {PROTOCOLS}")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port!r} is not between 1 and 65535")


@dataclass(frozen=True)
class Ruleset:
    """Everything our table holds: the LAN's networks and the guarded ports."""

    lan: tuple[Network, ...]
    guards: tuple[Guard, ...]


def comment(text: str) -> str:
    """A rule comment that cannot end the string or the statement: quotes, semicolons, braces, newlines dropped."""
    return _UNSAFE.sub("", text)[:100]


def render(ruleset: Ruleset) -> str:
    """The `table inet casaos { ... }` block (what `nft -f` loads after deleting the old one)."""
    guards = sorted(set(ruleset.guards), key=lambda g: (g.port, g.protocol, g.label))
    return "\n".join(
        [
            f"table {FAMILY} {TABLE} {{",
            *_set("lan4", "ipv4_addr", [n for n in ruleset.lan if n.version == 4]),
            *_set("lan6", "ipv6_addr", [n for n in ruleset.lan if n.version == 6]),
            *_chain("input", ['iif "lo" accept', *(_rule(g) for g in guards)]),
            *_chain("forward", [_rule(g, dnat=True) for g in guards]),
            "  chain lan_only {",
            "    ct original ip saddr @lan4 return",
            "    ct original ip6 saddr @lan6 return",
            "    meta l4proto tcp reject with tcp reset",  # the client sees "connection refused" at once
            "    reject with icmpx admin-prohibited",
            "  }",
            "}",
            "",
        ]
    )


def _set(name: str, kind: str, networks: list[Network]) -> list[str]:
    # Overlapping intervals are refused by nft; collapse_addresses merges them (and sorts) first.
    elements = ", ".join(str(n) for n in ipaddress.collapse_addresses(networks))
    body = f"type {kind}; flags interval; auto-merge;" + (f" elements = {{ {elements} }};" if elements else "")
    return [f"  set {name} {{ {body} }}"]


def _chain(name: str, rules: list[str]) -> list[str]:
    hook = f"    type filter hook {name} priority {PRIORITY}; policy accept;"
    return [f"  chain {name} {{", hook, *(f"    {rule}" for rule in rules), "  }"]


def _rule(guard: Guard, *, dnat: bool = False) -> str:
    # `ct direction original`: the packets the client sends; the replies to the box's own outgoing connections to
    # such a port elsewhere are left alone. In `forward`, `ct status dnat` keeps containers' own outgoing traffic out.
    match = "ct direction original " + ("ct status dnat " if dnat else "")
    port = f"meta l4proto {guard.protocol} ct original proto-dst {guard.port}"
    return f'{match}{port} counter jump lan_only comment "{comment(guard.label)}"'


def script(ruleset: Ruleset | None) -> str:
    """The whole transaction: make sure the table exists, delete it, and (unless None) write it anew."""
    head = f"table {FAMILY} {TABLE}\ndelete table {FAMILY} {TABLE}\n"
    return head + (render(ruleset) if ruleset is not None else "")


@dataclass(frozen=True)
class Nft:
    """Loads, removes and reads our table on the host (or in a namespace, through `prefix`)."""

    prefix: tuple[str, ...] = ()

    def _argv(self, *argv: str) -> list[str]:
        return [*self.prefix, "nft", *argv]

    def apply(self, ruleset: Ruleset) -> None:
        """Replace our table with these rules, atomically."""
        run(self._argv("-f", "-"), stdin=script(ruleset), timeout=TIMEOUT)

    def remove(self) -> None:
        """Delete our table (nothing happens where there is none)."""
        run(self._argv("-f", "-"), stdin=script(None), timeout=TIMEOUT)

    def listing(self) -> str:
        """`nft list table inet casaos` as text, or "" when the table is not there."""
        try:
            return run(self._argv("list", "table", FAMILY, TABLE), timeout=TIMEOUT)
        except CommandFailed as exc:
            if "No such file or directory" in (exc.stderr or ""):
                return ""
            raise


def ports_of(keys: Sequence[str]) -> list[tuple[str, int]]:
    """("tcp", 8080) pairs from the apps' claimed ports ("tcp/8080"); anything else is skipped."""
    found = []
    for key in keys:
        protocol, _sep, port = str(key).partition("/")
        if protocol in PROTOCOLS and port.isdigit() and 1 <= int(port) <= 65535:
            found.append((protocol, int(port)))
    return found
