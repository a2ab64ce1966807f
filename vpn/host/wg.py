"""The WireGuard interface on the host: made, configured, read and removed with `ip`, `wg` and `wireguard-go`.

The kernel's WireGuard is used where it exists (`ip link add type wireguard`); a kernel without it (ours) gets
wireguard-go, the userspace implementation, which makes a TUN interface of the same name and serves it until the
interface is removed. Keys reach `wg` on its standard input (`wg setconf <if> /dev/stdin`), never on a command line.
`prefix` is an argv put before every command: `ip netns exec <ns>` for an interface in a namespace, the tests'
recorder for a host that must not change.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.host.command import run, run_full
from storage.host.errors import CommandFailed, ParseError

from .config import interface_name

MTU = 1420  # WireGuard's default: 1500 less its own headers over IPv6
# wireguard-go refuses to start on Linux unless told that the userspace implementation is wanted on purpose.
USERSPACE_ENV = {"WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1"}


@dataclass(frozen=True)
class PeerState:
    public_key: str
    latest_handshake: int  # seconds since the epoch; 0 = never
    endpoint: str  # where the peer was last seen from; "" = never


@dataclass(frozen=True)
class WireGuard:
    """One WireGuard interface, reached through `prefix`."""

    name: str
    prefix: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        interface_name(self.name)

    def _argv(self, *argv: str) -> list[str]:
        return [*self.prefix, *argv]

    def exists(self) -> bool:
        done = run_full(self._argv("ip", "-o", "link", "show", "dev", self.name), ok_codes=None)
        return done.returncode == 0 and f": {self.name}:" in done.stdout

    def create(self) -> str:
        """Make the interface: the kernel's WireGuard, else wireguard-go; which one it was ("kernel"/"userspace")."""
        try:
            run(self._argv("ip", "link", "add", "dev", self.name, "type", "wireguard"))
        except CommandFailed:  # "Unknown device type" / "Operation not supported": no kernel module here
            run(self._argv("wireguard-go", self.name), env=USERSPACE_ENV)
            return "userspace"
        return "kernel"

    def configure(self, text: str) -> None:
        """Key, port and the complete peer list at once: peers the text does not name are removed."""
        run(self._argv("wg", "setconf", self.name, "/dev/stdin"), stdin=text)

    def address_set(self, cidr: str) -> None:
        run(self._argv("ip", "address", "flush", "dev", self.name))
        run(self._argv("ip", "address", "add", cidr, "dev", self.name))

    def up(self) -> None:
        run(self._argv("ip", "link", "set", "dev", self.name, "mtu", str(MTU), "up"))

    def remove(self) -> None:
        """Remove the interface (wireguard-go ends with it); nothing to do when it is not there."""
        if self.exists():
            run(self._argv("ip", "link", "delete", "dev", self.name))

    def peers(self) -> dict[str, PeerState]:
        """The live peers by public key: last handshake and endpoint (never the private key `wg show dump` prints)."""
        handshakes = self._pairs("latest-handshakes")
        endpoints = self._pairs("endpoints")
        try:
            return {
                key: PeerState(key, int(stamp), "" if endpoints.get(key) == "(none)" else endpoints.get(key, ""))
                for key, stamp in handshakes.items()
            }
        except ValueError as exc:
            raise ParseError("wg show printed an unexpected handshake time", stderr=str(exc)) from None

    def _pairs(self, what: str) -> dict[str, str]:
        out = run(self._argv("wg", "show", self.name, what))
        return dict(_split(line) for line in out.splitlines() if line.strip())


def _split(line: str) -> tuple[str, str]:
    key, _, value = line.partition("\t")
    return key.strip(), value.strip()


def apply(wg: WireGuard, *, config_text: str, address: str) -> str:
    """Bring the interface to this state (made if missing); "kernel", "userspace" or "existing"."""
    kind = "existing" if wg.exists() else wg.create()
    wg.configure(config_text)
    wg.address_set(address)
    wg.up()
    return kind
