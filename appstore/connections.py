"""Connections of store downloads: where they may go (appstore/addresses.py), and one deadline over all of them.

Each connection resolves the name once, keeps only the addresses the rules allow and connects to one of those
itself, so DNS rebinding has no window; the Host header and TLS's SNI and certificate check keep the name.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family, create_connection

from .addresses import address_kind

USER_AGENT = "casaos-home-cloud-appstore/1"


class FetchError(Exception):
    """A download failed; the message is shown on the store, `code` says what kind of failure it was.

    Codes: dns, offline, refused, timeout, tls, unreachable (no connection); server (5xx), http (another
    status); too_large, deadline, broken, disk, blocked (a local address), forbidden (link-local or metadata),
    redirects, url, other.
    """

    def __init__(self, message: str, code: str = "other") -> None:
        super().__init__(message)
        self.code = code


class Unreachable(FetchError):
    """No connection could be made (DNS, refused, timeout)."""


class BlockedAddress(FetchError):
    """The URL leads to an address we may not connect to: `blocked` (local, private) or `forbidden` (never)."""

    def __init__(self, message: str, code: str = "blocked") -> None:
        super().__init__(message, code)


# ---------------------------------------------------------------------------- where we may connect
def refusal(host: str, address: str, *, allow_lan: bool) -> BlockedAddress | None:
    """Why `address` (what `host` resolved to) may not be connected to, or None when it may."""
    kind = address_kind(address)
    subject = f"{address} is" if host == address else f"{host} leads to {address},"
    if kind == "never":
        return BlockedAddress(f"{subject} a link-local or cloud metadata address (never allowed)", "forbidden")
    if kind == "lan" and not allow_lan:
        return BlockedAddress(f"{subject} a local or private address (not allowed)")
    return None


class Deadline:
    """The wall-clock budget of one download: when it runs out, every socket it watches is shut down, so a read
    blocked on a server that drips one byte at a time returns at once (a timeout per read never would)."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.ends, self.expired = seconds, time.monotonic() + seconds, False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()

    def left(self) -> float:
        return max(self.ends - time.monotonic(), 0.0)

    def check(self) -> None:
        """FetchError(deadline) once the time is up."""
        if self.expired or not self.left():
            raise FetchError(f"the download took longer than {self.seconds:.0f} seconds", "deadline")

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
        if self.expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, also on a TLS socket: it wakes the reading thread without touching TLS state.
    # A socket closed since has no descriptor any more (EBADF), so no other connection's can be hit.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


@dataclass
class _Guard:
    """What every connection of one download obeys: the address rules and the deadline."""

    allow_lan: bool
    deadline: Deadline

    def connect(self, conn: HTTPConnection) -> socket.socket:
        """Resolve once, refuse what may not be reached, connect to a checked address (the name stays for TLS)."""
        self.deadline.check()
        addresses = self._allowed(conn.host, _resolve(conn))
        sock = _connect_first(conn, addresses, capped(conn.timeout, self.deadline.left()))
        self.deadline.watch(sock)
        return sock

    def _allowed(self, host: str, addresses: list[str]) -> list[str]:
        refused = {a: r for a in addresses if (r := refusal(host, a, allow_lan=self.allow_lan))}
        allowed = [a for a in addresses if a not in refused]
        if not allowed:  # name the worst: a metadata address before a merely local one
            raise next((r for r in refused.values() if r.code == "forbidden"), refused[addresses[0]])
        return allowed


def _resolve(conn: HTTPConnection) -> list[str]:
    """Every address the connection's host name has, in the resolver's order, each once."""
    try:
        infos = socket.getaddrinfo(conn._dns_host.strip("[]"), conn.port, allowed_gai_family(), socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def capped(timeout, left: float) -> float:
    return min(timeout, left) if isinstance(timeout, int | float) else left


def _connect_first(conn: HTTPConnection, addresses: list[str], timeout: float) -> socket.socket:
    """The first address that answers, as urllib3 would try them, failing with urllib3's own errors."""
    for address in addresses:
        try:
            return create_connection((address, conn.port), timeout, conn.source_address, conn.socket_options)
        except TimeoutError as exc:
            error = ConnectTimeoutError(conn, f"Connection to {conn.host} timed out. (connect timeout={timeout})")
            error.__cause__ = exc
        except OSError as exc:
            error = NewConnectionError(conn, f"Failed to establish a new connection: {exc}")
            error.__cause__ = exc
    raise error


def _guarded(base: type, guard: _Guard) -> type:
    class Guarded(base):  # type: ignore[misc, valid-type]
        def _new_conn(self) -> socket.socket:
            return guard.connect(self)

        def connect(self) -> None:
            super().connect()
            guard.deadline.watch(self.sock)  # TLS wraps the socket in a new one: watch that too

    return Guarded


class _GuardedAdapter(HTTPAdapter):
    """Pools whose connections go only where the guard allows."""

    def __init__(self, guard: _Guard):
        self.guard = guard
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        http_pool = type("Pool", (HTTPConnectionPool,), {"ConnectionCls": _guarded(HTTPConnection, self.guard)})
        https_pool = type("Pool", (HTTPSConnectionPool,), {"ConnectionCls": _guarded(HTTPSConnection, self.guard)})
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}


def session(*, allow_lan: bool, deadline: Deadline) -> requests.Session:
    """A session that never uses proxies from the environment and guards every connection."""
    s = requests.Session()
    s.trust_env = False
    s.headers["User-Agent"] = USER_AGENT
    adapter = _GuardedAdapter(_Guard(allow_lan, deadline))
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s
