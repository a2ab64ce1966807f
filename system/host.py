"""The one place the System settings touch the host: hostname, time zone, power, hardware facts. Plain Python.

Every command is an argv list (never a shell string) with `--` before the value, run with a time limit. `Host.root`
is where the host's files live (`/`; a fake tree in tests), and `Host.wrapper` an argv put before every command that
changes the machine (none; in tests a harmless recorder, so that a test of "restart" never restarts anything).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psutil

TIMEOUT = 30
# RFC 1123: labels of letters, digits and inner hyphens, 1-63 characters each, 253 in all.
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_ZONE = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")
_ENV = {**os.environ, "LC_ALL": "C", "LANG": "C"}


class HostCommandError(Exception):
    """A host command failed or is missing; the message carries its own words."""


def hostname_valid(name: str) -> bool:
    """A host name per RFC 1123 (dots between labels, no trailing dot)."""
    return 0 < len(name) <= 253 and all(_LABEL.match(label) for label in name.split("."))


@dataclass(frozen=True)
class Host:
    """The host the box runs on: its files under `root`, its state-changing commands behind `wrapper`."""

    root: Path = Path("/")
    wrapper: tuple[str, ...] = field(default_factory=tuple)

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def run(self, *argv: str) -> str:
        """Run a command that changes the machine (behind the wrapper); HostCommandError when it fails."""
        full = (*self.wrapper, *argv)
        if shutil.which(full[0]) is None:
            raise HostCommandError(f"{full[0]} is not installed")
        try:
            done = subprocess.run(full, capture_output=True, text=True, timeout=TIMEOUT, env=_ENV, check=False)
        except subprocess.TimeoutExpired as exc:
            raise HostCommandError(f"{argv[0]} did not finish within {TIMEOUT}s") from exc
        if done.returncode != 0:
            raise HostCommandError(f"{argv[0]} failed: {(done.stderr or done.stdout).strip()}")
        return done.stdout

    def systemd(self) -> bool:
        """systemd runs this host (hostnamectl, timedatectl and systemctl need it)."""
        return self.path("/run/systemd/system").is_dir()

    # ------------------------------------------------------------------------ hostname
    def hostname(self) -> str:
        try:
            return self.path("/etc/hostname").read_text().strip() or socket.gethostname()
        except OSError:
            return socket.gethostname()

    def hostname_set(self, name: str) -> None:
        """Set the static and the running host name."""
        if not hostname_valid(name):
            raise ValueError(name)
        if self.systemd():
            self.run("hostnamectl", "set-hostname", "--", name)
            return
        self.path("/etc/hostname").write_text(name + "\n")
        self.run("hostname", "--", name)

    # ------------------------------------------------------------------------ time zone
    def zone_exists(self, zone: str) -> bool:
        return bool(_ZONE.match(zone)) and ".." not in zone and self._zone_file(zone).is_file()

    def _zone_file(self, zone: str) -> Path:
        return Path("/usr/share/zoneinfo") / zone

    def time_zone(self) -> str:
        try:
            return self.path("/etc/timezone").read_text().strip()
        except OSError:
            return ""

    def time_zone_set(self, zone: str) -> None:
        """Set the host's time zone (timedatectl, or /etc/timezone and the /etc/localtime link)."""
        if not self.zone_exists(zone):
            raise ValueError(zone)
        if self.systemd():
            self.run("timedatectl", "set-timezone", "--", zone)
            return
        self.path("/etc/timezone").write_text(zone + "\n")
        link = self.path("/etc/localtime")
        temporary = link.with_name(".localtime.new")
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(self._zone_file(zone))
        temporary.replace(link)  # never a moment without /etc/localtime

    # ------------------------------------------------------------------------ power
    def power(self, action: str) -> None:
        """`reboot` or `poweroff` through systemctl."""
        if action not in ("reboot", "poweroff"):
            raise ValueError(action)
        self.run("systemctl", action)

    # ------------------------------------------------------------------------ addresses
    def addresses(self) -> set[str]:
        """Every address of this host's interfaces, plus the wildcards."""
        found = {"0.0.0.0", "::"}
        for entries in psutil.net_if_addrs().values():
            found |= {e.address.split("%")[0] for e in entries if e.family in (socket.AF_INET, socket.AF_INET6)}
        return found

    def port_free(self, address: str, port: int) -> bool:
        """Nothing listens on address:port (a bind of our own succeeds)."""
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address, port))
            except OSError:
                return False
        return True

    # ------------------------------------------------------------------------ hardware
    def hardware(self) -> dict:
        """CPU model and cores, memory, board model (a Raspberry Pi's device tree), kernel and OS."""
        return {
            "cpu_model": self._cpu_model(),
            "cpu_cores": os.cpu_count() or 1,
            "memory_bytes": psutil.virtual_memory().total,
            "board": self._read("/proc/device-tree/model").rstrip("\x00").strip(),
            "kernel": platform.release(),
            "os": self._os_name(),
            "architecture": platform.machine(),
        }

    def _read(self, absolute: str) -> str:
        """A fact file under the root, else the running system's own (a fake root need not copy /proc)."""
        for path in (self.path(absolute), Path(absolute)):
            try:
                return path.read_text(errors="replace")
            except OSError:
                continue
        return ""

    def _cpu_model(self) -> str:
        # x86 and 32-bit ARM say "model name"; 64-bit ARM kernels only "Hardware" (a Pi's "Model" is its board).
        for line in self._read("/proc/cpuinfo").splitlines():
            key, _sep, value = line.partition(":")
            if key.strip() in ("model name", "Hardware", "cpu model") and value.strip():
                return value.strip()
        return platform.processor() or platform.machine()

    def _os_name(self) -> str:
        for line in self._read("/etc/os-release").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip().strip('"')
        return platform.system()
