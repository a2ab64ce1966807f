"""mergerfs pools: one FUSE mount over several mounted disks, with a create policy; members change live."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .command import absolute, run
from .errors import HostError
from .mount import PROC, wait_mounted
from .mount import unmount as fs_unmount

# The create policies we offer: where a new file goes.
POLICIES = {
    "mfs": "most free space",
    "epmfs": "existing path first, then most free space",
    "lfs": "least free space",
    "ff": "first found",
}
# mergerfs skips members with less free space than this for new files (its own default, 4G, shuts small disks out);
# the files' own reserve (CASAOS_FILES_FREE_SPACE_RESERVE) is the same figure.
MIN_FREE = "256M"
CONTROL_FILE = ".mergerfs"  # mergerfs' runtime control file at the pool's root (xattrs)
BRANCHES_XATTR = "user.mergerfs.branches"
# The daemon lets go of its members a moment after its mount is gone; until then they cannot be unmounted.
DAEMON_EXIT_WAIT = 10  # seconds


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise HostError(f"unknown create policy {policy!r} (choose one of {', '.join(POLICIES)})")
    return policy


def _branches(members: list[str]) -> str:
    if not members:
        raise HostError("a pool needs at least one member")
    if any(":" in m or "=" in m for m in members):  # mergerfs' own separators
        raise HostError("a member path may not contain ':' or '='")
    return ":".join(members)


def mount_argv(*, members: list[str], target: str, policy: str, name: str) -> list[str]:
    """The argv that mounts a pool (fsname names it in findmnt; cache.files=off keeps writes honest)."""
    options = (
        f"category.create={check_policy(policy)},minfreespace={MIN_FREE},moveonenospc=true,cache.files=off,"
        f"fsname=mergerfs-{name}"
    )
    # mergerfs hands `--` to FUSE as a stray argument: absolute paths are what keep these from being options.
    return ["mergerfs", "-o", options, _branches([absolute(m) for m in members]), absolute(target)]


def mount(*, members: list[str], target: str, policy: str, name: str) -> None:
    Path(target).mkdir(parents=True, exist_ok=True)
    run(mount_argv(members=members, target=target, policy=policy, name=name), timeout=60)
    wait_mounted(target)


def _serves(pid_dir: Path, target: str) -> bool:
    try:
        argv = (pid_dir / "cmdline").read_bytes().split(b"\0")
    except OSError:  # the process ended while we looked
        return False
    return Path(argv[0].decode(errors="replace")).name == "mergerfs" and target.encode() in argv


def daemons(target: str, proc: Path = PROC) -> list[Path]:
    """The /proc folders of the mergerfs processes that serve target, an absolute path (their argv names it)."""
    return [pid for pid in proc.iterdir() if pid.name.isdigit() and _serves(pid, target)]


def unmount(target: str, wait: float = DAEMON_EXIT_WAIT) -> None:
    """Unmount a pool and wait for its daemon to end, so that its members can be unmounted straight after."""
    target = absolute(target)
    serving = daemons(target)
    fs_unmount(target)
    deadline = time.monotonic() + wait
    # A zombie's cmdline is empty: a daemon that ended but was not reaped yet no longer serves.
    while any(_serves(pid, target) for pid in serving) and time.monotonic() < deadline:
        time.sleep(0.05)


def _control(target: str) -> str:
    return str(Path(target) / CONTROL_FILE)


def set_branches(*, target: str, members: list[str]) -> None:
    """Change the members of a mounted pool in place: no unmount, open files stay open."""
    try:
        os.setxattr(_control(target), BRANCHES_XATTR, _branches(members).encode())
    except OSError as exc:
        raise HostError(f"mergerfs refused the new members ({exc.strerror})") from exc


def set_policy(*, target: str, policy: str) -> None:
    try:
        os.setxattr(_control(target), "user.mergerfs.category.create", check_policy(policy).encode())
    except OSError as exc:
        raise HostError(f"mergerfs refused the policy ({exc.strerror})") from exc


def branches(target: str) -> list[str]:
    """The pool's members as mergerfs reports them (policy suffixes such as =RW dropped)."""
    try:
        raw = os.getxattr(_control(target), BRANCHES_XATTR).decode()
    except OSError as exc:
        raise HostError(f"{target} is not a mounted pool ({exc.strerror})") from exc
    return [part.split("=", 1)[0] for part in raw.split(":") if part]
