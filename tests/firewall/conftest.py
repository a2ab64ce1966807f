"""The firewall on this machine for real: a network namespace joined to the host by a veth pair stands in for a
LAN peer (192.168.231.2, a private address) and for "outside" (198.51.100.2, a documentation range: not private),
a TCP listener stands in for the admin UI, and our nftables table is removed afterwards whatever happened."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from firewall.host.nft import FAMILY, TABLE

HOST_LAN, PEER_LAN = "192.168.231.1", "192.168.231.2"
HOST_OUT, PEER_OUT = "198.51.100.1", "198.51.100.2"
# IPv6: a unique local prefix (the LAN) and a documentation one (outside); `nodad` makes them usable at once.
HOST_LAN6, PEER_LAN6 = "fd31:231::1", "fd31:231::2"
HOST_OUT6, PEER_OUT6 = "2001:db8:231::1", "2001:db8:231::2"
# Runs inside the namespace: connect from a chosen source address, print open (with what the server said first),
# refused, or the error. A refused connection is the firewall's tcp reset: no waiting on a timeout.
PROBE = """
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET)
s.settimeout(10)
s.bind((src, 0))
try:
    s.connect((dst, port))
    s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
    print("open", s.recv(64).decode(errors="replace").splitlines()[0])
except ConnectionRefusedError:
    print("refused")
except OSError as exc:
    print("error", exc)
"""


def ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True, text=True)


@dataclass
class Peer:
    """The other end of the veth pair, in its own namespace, with a LAN and an outside address."""

    name: str

    def probe(self, port: int, *, outside: bool, v6: bool = False) -> str:
        if v6:
            src, dst = (PEER_OUT6, HOST_OUT6) if outside else (PEER_LAN6, HOST_LAN6)
        else:
            src, dst = (PEER_OUT, HOST_OUT) if outside else (PEER_LAN, HOST_LAN)
        argv = ["ip", "netns", "exec", self.name, sys.executable, "-c", PROBE, src, dst, str(port)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True).stdout.strip()


def _skip_reason() -> str:
    if os.geteuid() != 0:
        return "network namespaces and nftables need root"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/setup.sh installs it)"
    return ""


@pytest.fixture
def peer() -> Iterator[Peer]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    tag = secrets.token_hex(3)
    ns, host_end, peer_end = f"casa-fw-{tag}", f"cfw{tag}h", f"cfw{tag}p"
    ip("netns", "add", ns)
    try:
        ip("link", "add", host_end, "type", "veth", "peer", "name", peer_end, "netns", ns)
        for address in (f"{HOST_LAN}/24", f"{HOST_OUT}/24"):
            ip("addr", "add", address, "dev", host_end)
        for address in (f"{HOST_LAN6}/64", f"{HOST_OUT6}/64"):
            ip("addr", "add", address, "dev", host_end, "nodad")
        for address in (f"{PEER_LAN}/24", f"{PEER_OUT}/24"):
            ip("-n", ns, "addr", "add", address, "dev", peer_end)
        for address in (f"{PEER_LAN6}/64", f"{PEER_OUT6}/64"):
            ip("-n", ns, "addr", "add", address, "dev", peer_end, "nodad")
        ip("link", "set", host_end, "up")
        ip("-n", ns, "link", "set", peer_end, "up")
        ip("-n", ns, "link", "set", "lo", "up")
        yield Peer(name=ns)
    finally:
        subprocess.run(["ip", "link", "del", host_end], capture_output=True, check=False)  # takes its peer along
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


@pytest.fixture
def our_table_removed() -> Iterator[None]:
    """Whatever the test loaded, the host is left without our table."""
    yield
    script = f"table {FAMILY} {TABLE}\ndelete table {FAMILY} {TABLE}\n"
    subprocess.run(["nft", "-f", "-"], input=script, text=True, capture_output=True, check=False)


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP server on every address of the host (what the admin UI is): it answers each connection with "hi"."""
    server = socket.create_server(("::", 0), family=socket.AF_INET6, dualstack_ipv6=True)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"hi\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(), which then fails and ends the thread
    server.close()
    thread.join(timeout=5)
