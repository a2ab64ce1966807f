"""Partition a whole disk (one GPT partition) and make a filesystem on it."""

from __future__ import annotations

import re
import time
from pathlib import Path

from .command import absolute, run
from .errors import HostError

FILESYSTEMS = ("ext4", "xfs", "btrfs", "exfat", "ntfs", "vfat")
# Labels every one of these filesystems accepts (FAT and exFAT allow 11 characters).
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,10}$")
PARTITION_WAIT = 10  # seconds for the kernel to show the new partition's device node


def mkfs_argv(*, fstype: str, device: str, label: str) -> list[str]:
    """The argv that makes fstype on device with label (force: the caller already refused system disks)."""
    check_label(label)
    argv = {
        "ext4": ["mkfs.ext4", "-F", "-q", "-L", label],
        "xfs": ["mkfs.xfs", "-f", "-q", "-L", label],
        "btrfs": ["mkfs.btrfs", "-f", "-q", "-L", label],
        "exfat": ["mkfs.exfat", "-L", label],
        "ntfs": ["mkfs.ntfs", "-F", "-Q", "-q", "-L", label],
        "vfat": ["mkfs.vfat", "-n", label.upper()],
    }.get(fstype)
    if argv is None:
        raise HostError(f"we cannot format as {fstype} (choose one of {', '.join(FILESYSTEMS)})")
    # mkntfs reads a `--` as its device: there the path's leading "/" is what keeps it from being an option.
    return [*argv, absolute(device)] if fstype == "ntfs" else [*argv, "--", device]


def check_label(label: str) -> str:
    if not LABEL.match(label or ""):
        raise HostError("a label is 1 to 11 letters, digits, - or _, starting with a letter or digit")
    return label


def partition_argv(device: str) -> list[str]:
    """One GPT table with one partition over the whole disk, aligned at 1 MiB."""
    return [
        "parted",
        "--script",
        "--align",
        "optimal",
        "--",
        device,
        "mklabel",
        "gpt",
        "mkpart",
        "data",
        "1MiB",
        "100%",
    ]


def partition_path(device: str, number: int = 1) -> str:
    # The kernel names partitions sda1 but nvme0n1p1, loop0p1, mmcblk0p1: a "p" when the disk name ends in a digit.
    return f"{device}p{number}" if device[-1].isdigit() else f"{device}{number}"


def partition_whole_disk(device: str) -> str:
    """Write the table, have the kernel re-read it, and return the new partition's path once it exists."""
    run(["wipefs", "--all", "--quiet", "--", device])
    run(partition_argv(device))
    run(["partx", "--update", "--", device], ok_codes=(0, 1))  # parted usually told the kernel already
    path = partition_path(device)
    deadline = time.monotonic() + PARTITION_WAIT
    while not Path(path).exists():
        if time.monotonic() > deadline:
            raise HostError(f"the kernel did not show {path} after partitioning")
        time.sleep(0.1)
    return path


def make_filesystem(*, fstype: str, device: str, label: str) -> None:
    """Make a filesystem (minutes on a large disk: long time limit)."""
    run(mkfs_argv(fstype=fstype, device=device, label=label), timeout=3600)
