"""WireGuard keys and configuration text, as data: nothing here touches the host.

Keys are Curve25519 pairs made with `cryptography` (the same X25519 that `wg genkey` and `wg pubkey` compute), so a
private key never passes through a command line or a child process. Every value that reaches a configuration text is
checked here again, whoever the caller: a line break or a `[` in a value could add a peer or a section of its own.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

KEEPALIVE = 25  # seconds: a phone behind NAT keeps its mapping open, and the box can reach it back
# A host name (letters, digits, dashes, dots) or an address: what may follow `Endpoint =`.
_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


class ConfigRefused(ValueError):
    """A value that may not reach a WireGuard configuration."""


@dataclass(frozen=True)
class KeyPair:
    private: str  # base64, 44 characters: never stored by us for a peer
    public: str


@dataclass(frozen=True)
class PeerSpec:
    """A peer as the server's interface sees it: its public key and the one address it may send from."""

    public_key: str
    address: str  # e.g. 10.77.0.2


def key_pair() -> KeyPair:
    """A fresh Curve25519 key pair, base64 like wg's."""
    private = X25519PrivateKey.generate()
    return KeyPair(private=_b64(private.private_bytes_raw()), public=_b64(private.public_key().public_bytes_raw()))


def public_of(private_key: str) -> str:
    """The public key of a base64 private key (what `wg pubkey` prints)."""
    raw = _raw_key(private_key)
    return _b64(X25519PrivateKey.from_private_bytes(raw).public_key().public_bytes_raw())


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _raw_key(key: str) -> bytes:
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32 or len(key) != 44:
        raise ConfigRefused("not a WireGuard key (44 characters of base64)")
    return raw


def check_key(key: str) -> str:
    _raw_key(key)
    return key


def check_network(cidr: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    """The server's address with its prefix (10.77.0.1/24): a host inside a range with room for peers."""
    try:
        iface = ipaddress.ip_interface(cidr.strip())
    except ValueError as exc:
        raise ConfigRefused(str(exc)) from None
    net = iface.network
    if net.num_addresses < 4 or iface.ip in (net.network_address, net.broadcast_address):
        raise ConfigRefused("the server needs a host address inside a range of at least 4 addresses")
    return iface


def check_host(host: str) -> str:
    """An endpoint host: a name or an address, nothing that could end the line."""
    host = host.strip()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOST.match(host):
        raise ConfigRefused("not a host name or an address")
    return host


def check_port(port: int) -> int:
    if not 1 <= int(port) <= 65535:
        raise ConfigRefused("a port is 1 to 65535")
    return int(port)


def endpoint(host: str, port: int) -> str:
    host = check_host(host)
    return f"[{host}]:{check_port(port)}" if ":" in host else f"{host}:{check_port(port)}"


def peer_address(server: str, taken: set[str]) -> str:
    """The first free host address of the server's range (the server's own and those in `taken` left out)."""
    iface = check_network(server)
    for host in iface.network.hosts():
        if host != iface.ip and str(host) not in taken:
            return str(host)
    raise ConfigRefused("the address range is full")


def _host_prefix(address: str) -> str:
    ip = ipaddress.ip_address(address)
    return f"{ip}/{ip.max_prefixlen}"


def server_config(*, private_key: str, listen_port: int, peers: list[PeerSpec]) -> str:
    """What `wg setconf` takes for the server: its key and port, and exactly these peers (others are dropped)."""
    lines = ["[Interface]", f"PrivateKey = {check_key(private_key)}", f"ListenPort = {check_port(listen_port)}"]
    for peer in peers:
        lines += [
            "",
            "[Peer]",
            f"PublicKey = {check_key(peer.public_key)}",
            f"AllowedIPs = {_host_prefix(peer.address)}",
        ]
    return "\n".join(lines) + "\n"


def _routes(values: list[str]) -> str:
    try:
        return ", ".join(str(ipaddress.ip_network(v.strip(), strict=False)) for v in values)
    except ValueError as exc:
        raise ConfigRefused(str(exc)) from None


def peer_config(
    *,
    private_key: str,
    address: str,
    server_public_key: str,
    endpoint_host: str,
    port: int,
    routes: list[str],
    dns: list[str] = (),
) -> str:
    """The device's wg-quick file (what the phone app imports from the QR code): its key and address, the box as
    its one peer, and the ranges it reaches through the tunnel."""
    lines = ["[Interface]", f"PrivateKey = {check_key(private_key)}", f"Address = {_host_prefix(address)}"]
    if dns:
        lines.append("DNS = " + ", ".join(str(ipaddress.ip_address(d.strip())) for d in dns))
    lines += [
        "",
        "[Peer]",
        f"PublicKey = {check_key(server_public_key)}",
        f"AllowedIPs = {_routes(routes)}",
        f"Endpoint = {endpoint(endpoint_host, port)}",
        f"PersistentKeepalive = {KEEPALIVE}",
    ]
    return "\n".join(lines) + "\n"


def interface_name(name: str) -> str:
    """A Linux interface name: 1-15 letters, digits, dash, underscore, dot; never an option or a path."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}", name) or name in (".", ".."):
        raise ConfigRefused("not an interface name")
    return name
