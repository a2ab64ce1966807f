"""Real block devices for storage tests: loop devices over sparse files, and a media root of the test's own.

Every loop device a test makes is detached, and everything mounted from it or under the test's media root is
unmounted, when the test ends, passed or failed.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import missing

TOOLS = (
    "losetup",
    "lsblk",
    "blkid",
    "findmnt",
    "parted",
    "mkfs.ext4",
    "mkfs.xfs",
    "mkfs.btrfs",
    "mkfs.exfat",
    "mkfs.ntfs",
    "mkfs.vfat",
    "mergerfs",
    "smartctl",
)
DISK_SIZE = "512M"  # sparse, so free; xfs wants more than 300 MB


def _needs_root_and_tools() -> None:
    if os.geteuid() != 0:
        missing("loop device tests need root")
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if absent:
        missing(f"storage tools missing (scripts/setup.sh installs them): {', '.join(absent)}")


def _mounted_under(paths: list[str], sources: list[str]) -> list[str]:
    """Mount points under our folders or mounted from our devices, deepest first (pools before their disks)."""
    out = subprocess.run(["findmnt", "--json", "--list", "-o", "TARGET,SOURCE"], capture_output=True, text=True)
    found = []
    for entry in json.loads(out.stdout or '{"filesystems": []}')["filesystems"]:
        target, source = entry["target"], entry["source"] or ""
        if any(Path(target).is_relative_to(p) for p in paths) or any(source.startswith(s) for s in sources):
            found.append(target)
    return sorted(found, key=len, reverse=True)


class LoopDisks:
    """Makes loop devices (with partition scanning) and knows how to take every one of them away."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.devices: list[str] = []
        self.watched: list[str] = []
        self.images = 0

    def make(self, size: str = DISK_SIZE) -> str:
        return self.attach(self.image(size))

    def image(self, size: str = DISK_SIZE) -> Path:
        """A new sparse image file, not attached yet (a disk before it is plugged in)."""
        self.images += 1
        image = self.folder / f"disk{self.images}.img"
        subprocess.run(["truncate", "-s", size, "--", str(image)], check=True)
        return image

    def attach(self, image: Path) -> str:
        """Plug an image in as a loop device (again, after detach: the same disk coming back)."""
        out = subprocess.run(
            ["losetup", "--find", "--show", "--partscan", "--", str(image)], check=True, capture_output=True, text=True
        )
        device = out.stdout.strip()
        self.devices.append(device)
        return device

    def detach(self, device: str) -> None:
        """Take a disk away mid-test (unplugged); forgotten here, so the clean-up never detaches a reused number."""
        subprocess.run(["losetup", "--detach", device], check=True)  # losetup reads a `--` as the device
        self.devices.remove(device)

    def cleanup(self) -> None:
        for target in _mounted_under(self.watched, self.devices):
            subprocess.run(["umount", "--lazy", "--", target], capture_output=True)
        for device in self.devices:
            subprocess.run(["losetup", "--detach", device], capture_output=True)
        attached = subprocess.run(
            ["losetup", "--list", "--noheadings", "--output", "NAME"], capture_output=True, text=True
        ).stdout.split()
        leaked = [device for device in self.devices if device in attached]
        assert not leaked, f"loop devices left attached: {leaked}"


@pytest.fixture
def loop_disks(tmp_path, media_root):
    """A maker of real disks; cleaned up even when the test fails."""
    _needs_root_and_tools()
    disks = LoopDisks(tmp_path)
    disks.watched.append(str(media_root))
    yield disks
    disks.cleanup()


@pytest.fixture
def media_root(tmp_path, settings):
    """CASAOS_MEDIA_ROOT of this test, with loop devices listed in the inventory."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT_DISKS = root
    settings.STORAGE_LOOP_DEVICES = True
    return root


def make_fs(device: str, fstype: str, label: str) -> None:
    """A filesystem straight on a device, made by the test itself (for 'mount an existing filesystem')."""
    argv = {
        "ext4": ["mkfs.ext4", "-F", "-q", "-L", label],
        "xfs": ["mkfs.xfs", "-f", "-q", "-L", label],
        "btrfs": ["mkfs.btrfs", "-f", "-q", "-L", label],
        "exfat": ["mkfs.exfat", "-L", label],
        "vfat": ["mkfs.vfat", "-n", label],
        "ntfs": ["mkfs.ntfs", "-F", "-Q", "-q", "-L", label],
    }[fstype]
    subprocess.run([*argv, device], check=True, capture_output=True)


def fs_uuid(device: str) -> str:
    out = subprocess.run(
        ["blkid", "-c", "/dev/null", "-s", "UUID", "-o", "value", "--", device],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()
