"""Mount and unmount filesystems, find what holds a busy one, and power a USB disk off."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .command import absolute, run
from .errors import Busy, CommandFailed, HostError

PROC = Path("/proc")
SYS_BLOCK = Path("/sys/block")
# Data disks never carry set-uid programs or device nodes that we would honour.
SAFE_OPTIONS = ("nosuid", "nodev", "noatime")
# Filesystems we mount, and the FUSE helper for those this kernel may lack a driver for.
MOUNTABLE = ("ext4", "ext3", "ext2", "xfs", "btrfs", "exfat", "ntfs", "vfat")
FUSE_HELPERS = {"exfat": "exfat-fuse", "ntfs": "ntfs-3g"}
MOUNT_WAIT = 5  # seconds a FUSE daemon gets to show its mount
UMOUNT_BUSY = 32  # umount(8)'s status for "target is busy" (and other mount failures)


@dataclass(frozen=True)
class Holder:
    """A process that keeps a filesystem busy: its pid, command name and the path it holds."""

    pid: int
    command: str
    path: str


def kernel_filesystems(proc: Path = PROC) -> set[str]:
    """Filesystem types the running kernel can mount itself."""
    try:
        return {line.split()[-1] for line in (proc / "filesystems").read_text().splitlines() if line.strip()}
    except OSError:
        return set()


def mount_argv(*, source: str, target: str, fstype: str, readonly: bool = False) -> list[str]:
    """The argv that mounts source on target: the kernel's driver when it has one, else the FUSE helper."""
    if fstype not in MOUNTABLE:
        raise HostError(f"{fstype or 'this filesystem'} cannot be mounted here (we mount {', '.join(MOUNTABLE)})")
    options = ",".join(("ro" if readonly else "rw", *SAFE_OPTIONS))
    kernel = kernel_filesystems()
    # ntfs3 in the kernel is still young: ntfs-3g is what every NAS distribution mounts NTFS with.
    if fstype == "vfat" and "vfat" not in kernel:
        # fusefat passes its arguments on to FUSE after a `--` would end them: absolute paths cannot be options.
        return ["fusefat", "-o", "ro" if readonly else "rw+", absolute(source), absolute(target)]
    if fstype in FUSE_HELPERS and (fstype == "ntfs" or fstype not in kernel):
        fstype = FUSE_HELPERS[fstype]
    return ["mount", "-t", fstype, "-o", options, "--", source, target]


def mount(*, source: str, target: str, fstype: str, readonly: bool = False) -> None:
    """Mount a device of our own listing on a folder we chose (created when missing)."""
    Path(target).mkdir(parents=True, exist_ok=True)
    run(mount_argv(source=source, target=target, fstype=fstype, readonly=readonly), timeout=120)
    wait_mounted(target)


def wait_mounted(target: str, seconds: float = MOUNT_WAIT) -> None:
    """A FUSE helper may exit 0 before (or without) its mount being there: files must never land in the bare folder."""
    deadline = time.monotonic() + seconds
    while not os.path.ismount(target):
        if time.monotonic() > deadline:
            raise HostError(f"{target} is not mounted although the mount command succeeded")
        time.sleep(0.05)


def is_mounted(target: str) -> bool:
    return os.path.ismount(target)


def unmount(target: str) -> None:
    """Unmount target; a busy filesystem raises Busy naming the processes that hold it."""
    try:
        run(["umount", "--", target], timeout=120)
    except CommandFailed as exc:
        holders = find_holders(target)
        if holders or "busy" in exc.stderr:
            raise Busy("the filesystem is in use", argv=exc.argv, stderr=exc.stderr, holders=holders) from exc
        raise


def unmount_lazy(target: str) -> None:
    """Detach a mount whose disk is gone (it can only answer I/O errors now); the kernel drops it when unused."""
    run(["umount", "--lazy", "--", target], timeout=30)


def _points_under(link: Path, root: Path) -> str | None:
    try:
        target = link.readlink()
    except OSError:  # the process ended, or its fd closed, while we looked
        return None
    return str(target) if target == root or target.is_relative_to(root) else None


def _held_paths(pid_dir: Path, root: Path):
    for name in ("cwd", "root", "exe"):
        yield _points_under(pid_dir / name, root)
    try:
        fds = list((pid_dir / "fd").iterdir())
    except OSError:
        return
    for fd in fds:
        yield _points_under(fd, root)


def _command(pid_dir: Path) -> str:
    try:
        return (pid_dir / "comm").read_text().strip()
    except OSError:
        return "?"


def find_holders(target: str, proc: Path = PROC) -> list[Holder]:
    """Processes with a working directory, root, program or open file under target (what fuser -m reports)."""
    root = Path(os.path.realpath(target))
    holders = []
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        held = next((path for path in _held_paths(pid_dir, root) if path), None)
        if held:
            holders.append(Holder(int(pid_dir.name), _command(pid_dir), held))
    return holders


def sync() -> None:
    """Flush every filesystem's dirty pages before an eject."""
    os.sync()


def power_off(name: str, sys_block: Path = SYS_BLOCK) -> bool:
    """Detach a disk from the kernel so its USB port powers it down; False when it has no such switch."""
    delete = sys_block / name / "device" / "delete"
    if not delete.exists():  # loop, md, virtio: nothing to power off
        return False
    delete.write_text("1")
    return True
