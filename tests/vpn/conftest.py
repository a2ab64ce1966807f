"""Fixtures of the VPN tests: the apply queued (and run on demand), and two network namespaces joined by a veth pair,
the box in one and a device in the other, with every wireguard-go and server process they start ended and reaped."""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
# The stand-in for the admin UI inside the box's namespace: answers every GET with a fixed body, says when it listens.
ADMIN_STANDIN = """
import http.server, sys
class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"casaos admin"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("0.0.0.0", int(sys.argv[1])), Answer)
print("listening", flush=True)
server.serve_forever()
"""
ADMIN_PORT = 8099


class Queue:
    """The vpn.apply tasks a test's changes queued: the on-commit callbacks (the test's transaction never commits)
    run when asked, their .delay() recorded instead of sent to a broker."""

    def __init__(self) -> None:
        self.start, self.ran, self.calls = len(connection.run_on_commit), 0, []

    def __call__(self) -> list[tuple]:
        pending = connection.run_on_commit[self.start :]
        while self.ran < len(pending):
            self.ran += 1
            pending[self.ran - 1][1]()  # (savepoint ids, callback, robust)
        return self.calls


@pytest.fixture
def queued(db, monkeypatch):
    from vpn import tasks

    queue = Queue()
    monkeypatch.setattr(tasks.vpn_apply, "delay", lambda *args: queue.calls.append(args))
    return queue


@pytest.fixture
def key_dir(settings, tmp_path):
    settings.VPN_KEY_DIR = tmp_path / "vpn-keys"
    return settings.VPN_KEY_DIR


def ip(*argv: str) -> str:
    return subprocess.run(["ip", *argv], check=True, capture_output=True, text=True).stdout


@dataclass
class Pair:
    """`box` (veth address 10.232.0.1) and `device` (10.232.0.2), in namespaces of their own."""

    box: str
    device: str

    def run(self, ns: str, *argv: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ip", "netns", "exec", ns, *argv], check=check, capture_output=True, text=True, timeout=timeout
        )


def _subreaper(on: bool) -> None:
    # wireguard-go forks into the background and its parent exits: as a subreaper this process adopts the daemon
    # (not the machine's init), so the teardown can reap it and no zombie is left behind.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)


def _pids_in(ns: str) -> list[int]:
    done = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False)
    return [int(pid) for pid in done.stdout.split()]


def _end(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _zombies() -> list[int]:
    """Our own children that ended on their own (a wireguard-go whose interface was removed), not yet reaped."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
            state, ppid = tail.split()[:2]
        except (OSError, ValueError):
            continue
        if head.endswith("(wireguard-go") and state == "Z" and int(ppid) == os.getpid():
            found.append(int(stat.parent.name))
    return found


def _reap(pids: list[int]) -> None:
    for pid in pids:
        # Killed above: returns as soon as the kernel has ended it. ChildProcessError: not ours (adopted by init
        # before we became a subreaper), and init reaps it.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _skip_reason() -> str:
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [tool for tool in ("ip", "wg", "wg-quick", "wireguard-go", "curl") if shutil.which(tool) is None]
    if missing:
        return f"not installed: {', '.join(missing)} (scripts/setup.sh installs them)"
    if not Path("/dev/net/tun").exists():
        return "no /dev/net/tun: wireguard-go needs TUN"
    return ""


@pytest.fixture
def pair():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    tag = secrets.token_hex(3)
    net = Pair(box=f"casa-vpn-{tag}-b", device=f"casa-vpn-{tag}-d")
    _subreaper(True)
    try:
        ip("netns", "add", net.box)
        ip("netns", "add", net.device)
        _wire(net, tag)
        yield net
    finally:
        victims = _pids_in(net.box) + _pids_in(net.device)
        _end(victims)
        _reap(victims)
        _reap(_zombies())
        for ns in (net.box, net.device):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        _subreaper(False)


def _wire(net: Pair, tag: str) -> None:
    box_if, device_if = f"cv{tag}b", f"cv{tag}d"
    ip("-n", net.box, "link", "add", box_if, "type", "veth", "peer", "name", device_if, "netns", net.device)
    ip("-n", net.box, "addr", "add", "10.232.0.1/24", "dev", box_if)
    ip("-n", net.device, "addr", "add", "10.232.0.2/24", "dev", device_if)
    for ns, name in ((net.box, box_if), (net.device, device_if), (net.box, "lo"), (net.device, "lo")):
        ip("-n", ns, "link", "set", name, "up")


@pytest.fixture
def admin_standin(pair):
    """An HTTP server on every address of the box's namespace (the tunnel's included): what "the admin" answers."""
    proc = subprocess.Popen(
        ["ip", "netns", "exec", pair.box, sys.executable, "-c", ADMIN_STANDIN, str(ADMIN_PORT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "listening"  # the server says so once its socket is bound
        yield ADMIN_PORT
    finally:
        proc.kill()
        proc.wait()
