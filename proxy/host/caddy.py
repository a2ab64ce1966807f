"""Caddy behind a small plain-Python interface (no Django, like storage/host/ and backups/host/).

Caddy's admin API listens on a unix socket under our data directory (never a TCP port another local user could
reach). The whole configuration is built from our database and pushed with `POST /load`; nothing edits a file by
hand. The one file we write is the bootstrap configuration Caddy starts with: the admin socket and nothing else.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CADDY = "caddy"
READY_SECONDS = 20  # a Raspberry Pi's first start generates the internal CA's keys


class CaddyError(Exception):
    """Caddy refused a configuration, or its admin API did not answer."""


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("caddy-admin", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


@dataclass(frozen=True)
class CaddyAdmin:
    """Caddy's admin API on a unix socket."""

    socket_path: Path
    timeout: float = 30.0

    def request(self, method: str, path: str, body: dict | None = None) -> bytes:
        conn = _UnixHTTPConnection(str(self.socket_path), self.timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            # Caddy lets a unix-socket client in with an empty Host only (it refuses names it was not told of).
            conn.request(method, path, body=payload, headers={"Host": "", "Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
        except OSError as exc:
            raise CaddyError(f"Caddy's admin API at {self.socket_path} does not answer: {exc}") from exc
        finally:
            conn.close()
        if response.status >= 400:
            raise CaddyError(_caddy_message(data) or f"Caddy answered {response.status}")
        return data

    def load(self, config: dict) -> None:
        """Replace Caddy's whole running configuration; Caddy keeps the old one when it refuses the new."""
        self.request("POST", "/load", config)

    def config(self) -> dict:
        return json.loads(self.request("GET", "/config/") or b"null") or {}

    def alive(self) -> bool:
        try:
            self.request("GET", "/config/")
        except CaddyError:
            return False
        return True


def _caddy_message(data: bytes) -> str:
    try:
        return str(json.loads(data).get("error", "")).strip()
    except (ValueError, AttributeError):
        return data.decode(errors="replace").strip()[:500]


def admin_listen(socket_path: Path) -> str:
    """Caddy's spelling of a unix socket address."""
    return f"unix/{socket_path}"


def bootstrap_config(socket_path: Path) -> dict:
    """What Caddy starts with: its admin API on our socket, nothing served until the first load."""
    return {"admin": {"listen": admin_listen(socket_path), "config": {"persist": False}}}


def caddy_env(storage: Path) -> dict[str, str]:
    """Caddy keeps its certificates and the internal CA under `storage` (XDG dirs), never in the user's home."""
    return {
        **os.environ,
        "XDG_DATA_HOME": str(storage / "data"),
        "XDG_CONFIG_HOME": str(storage / "config"),
        "HOME": str(storage),
    }


def caddy_program() -> str:
    found = shutil.which(CADDY)
    if not found:
        raise CaddyError("caddy is not installed (scripts/setup.sh installs Debian's caddy)")
    return found


def caddy_start(*, socket_path: Path, storage: Path, log) -> subprocess.Popen:
    """Start `caddy run` with the bootstrap configuration and wait until its admin API answers."""
    storage.mkdir(parents=True, exist_ok=True, mode=0o700)
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)  # a socket left by a killed Caddy would refuse the new one's bind
    bootstrap = storage / "bootstrap.json"
    bootstrap.write_text(json.dumps(bootstrap_config(socket_path)))
    argv = [caddy_program(), "run", "--config", str(bootstrap)]  # a .json file is read as JSON as it is
    proc = subprocess.Popen(argv, env=caddy_env(storage), stdout=log, stderr=subprocess.STDOUT)
    try:
        caddy_wait(CaddyAdmin(socket_path), proc)
    except CaddyError:
        caddy_stop(proc)  # never leave a Caddy behind that nobody can configure
        raise
    return proc


def caddy_wait(admin: CaddyAdmin, proc: subprocess.Popen, seconds: float = READY_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not admin.alive():
        if proc.poll() is not None:
            raise CaddyError(f"caddy exited with {proc.returncode} before its admin API answered")
        if time.monotonic() > deadline:
            raise CaddyError(f"caddy's admin API did not answer within {seconds:.0f} s")
        time.sleep(0.1)


def caddy_stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def root_certificate(storage: Path) -> Path:
    """The internal CA's root certificate, as Caddy writes it once it first issues a certificate."""
    return storage / "pki" / "authorities" / "local" / "root.crt"
