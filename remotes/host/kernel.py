"""The kernel's own SMB (cifs) and NFS clients, used where /proc/filesystems lists them.

The password goes to a credentials file of mode 0600 (`credentials=`), never into the options on the command line.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from storage.host.command import absolute, run
from storage.host.errors import HostError
from storage.host.mount import kernel_filesystems, wait_mounted

from .rclone import check_value, write_private

SAFE = "nosuid,nodev,noexec"
# Host names, addresses and share/export names as mount.cifs and mount.nfs read them: no comma (an option
# separator), no space, nothing a shell or an option parser would read.
HOST = re.compile(r"^[A-Za-z0-9._:\[\]-]{1,253}$")
SHARE = re.compile(r"^[A-Za-z0-9 $._/-]{1,200}$")


def mount_helpers() -> set[str]:
    """The kernel clients whose mount helper is installed: mount.cifs (cifs-utils), mount.nfs (nfs-common)."""
    return {fstype for fstype in ("cifs", "nfs") if shutil.which(f"mount.{fstype}")}


def has_client(fstype: str) -> bool:
    """Whether this machine mounts `fstype` through the kernel: the kernel's client and its mount helper (this
    machine's kernel has neither cifs nor nfs; nfs-common is not installed unasked, as it runs rpcbind)."""
    return fstype in kernel_filesystems() and fstype in mount_helpers()


def _check(pattern: re.Pattern, value: str, what: str) -> str:
    if not pattern.match(value) or value.startswith("-"):
        raise HostError(f"{what} {value!r} is not valid here")
    return value


def cifs_credentials(*, user: str, password: str, domain: str = "") -> str:
    lines = [f"username={check_value(user)}", f"password={check_value(password)}"]
    if domain:
        lines.append(f"domain={check_value(domain)}")
    return "\n".join(lines) + "\n"


def cifs_argv(*, host: str, share: str, target: str, credentials: str, port: int = 445) -> list[str]:
    source = f"//{_check(HOST, host, 'host')}/{_check(SHARE, share.strip('/'), 'share')}"
    options = f"credentials={absolute(credentials)},port={int(port)},{SAFE},iocharset=utf8"
    return ["mount", "-t", "cifs", "-o", options, "--", source, absolute(target)]


def nfs_argv(*, host: str, export: str, target: str) -> list[str]:
    source = f"{_check(HOST, host, 'host')}:{_check(SHARE, '/' + export.strip('/'), 'export')}"
    # soft + timeo: a server that goes away answers errors instead of hanging every process that touches it.
    options = f"{SAFE},soft,timeo=100,retrans=2"
    return ["mount", "-t", "nfs", "-o", options, "--", source, absolute(target)]


def source_of(argv: list[str]) -> str:
    """What /proc/self/mountinfo will name as the mount's source."""
    return argv[-2]


def mount(argv: list[str], *, target: str, seconds: int) -> None:
    Path(target).mkdir(parents=True, exist_ok=True)
    run(argv, timeout=seconds * 3)
    wait_mounted(target)


def write_credentials(path: Path, text: str) -> None:
    write_private(path, text)


def unmount(target: str) -> None:
    run(["umount", "--", absolute(target)], timeout=60)
