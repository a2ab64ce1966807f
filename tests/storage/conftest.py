"""Real block devices for storage tests: loop devices over sparse files, and a media root of the test's own.

Every loop device a test makes is detached, and everything mounted from it or under the test's media root is
unmounted, when the test ends, passed or failed.
"""

import contextlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from storage import tasks
from storage.host import block, mergerfs
from storage.host.errors import HostError
from tests.conftest import missing
from tests.factories import UserFactory

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
SETTLE = 15  # seconds the clean-up waits for a busy filesystem or loop device to be let go


def _needs_root_and_tools() -> None:
    if os.geteuid() != 0:
        missing("loop device tests need root")
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if absent:
        missing(f"storage tools missing (scripts/setup.sh installs them): {', '.join(absent)}")


def _mounted_under(paths: list[str], sources: list[str]) -> list[tuple[str, str]]:
    """(target, fstype) of mounts under our folders or from our devices, pools first, deepest first."""
    out = subprocess.run(["findmnt", "--json", "--list", "-o", "TARGET,SOURCE,FSTYPE"], capture_output=True, text=True)
    found = []
    for entry in json.loads(out.stdout or '{"filesystems": []}')["filesystems"]:
        target, source = entry["target"], entry["source"] or ""
        if any(Path(target).is_relative_to(p) for p in paths) or any(source.startswith(s) for s in sources):
            found.append((target, entry["fstype"]))
    return sorted(found, key=lambda mount: (mount[1] != "fuse.mergerfs", -len(mount[0])))


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
        for target, fstype in _mounted_under(self.watched, self.devices):
            _unmount(target, fstype)
        for device in self.devices:
            subprocess.run(["losetup", "--detach", device], capture_output=True)
        leaked = _wait_detached([str(image) for image in self.folder.glob("disk*.img")])
        assert not leaked, f"loop devices left attached: {leaked}"


def _unmount(target: str, fstype: str) -> None:
    """A pool through the product (it waits for the daemon to let go of the disks), then a real unmount: a lazy one
    would leave the filesystem, and so its loop device, busy behind our back."""
    if fstype == "fuse.mergerfs":
        with contextlib.suppress(HostError):
            mergerfs.unmount(target)
    deadline = time.monotonic() + SETTLE
    while os.path.ismount(target) and time.monotonic() < deadline:
        if subprocess.run(["umount", "--", target], capture_output=True).returncode != 0:
            time.sleep(0.1)
    if os.path.ismount(target):
        subprocess.run(["umount", "--lazy", "--", target], capture_output=True)


def _backed_by(images: list[str]) -> list[str]:
    """Loop devices over these image files (by file, not number: another process may reuse a number we let go)."""
    out = subprocess.run(
        ["losetup", "--list", "--noheadings", "--raw", "--output", "NAME,BACK-FILE"], capture_output=True, text=True
    ).stdout
    return [line.split(" ", 1)[0] for line in out.splitlines() if line.split(" ", 1)[-1].strip() in images]


def _wait_detached(images: list[str]) -> list[str]:
    """Detach whatever still holds our images until none does (a device in use detaches once let go)."""
    deadline = time.monotonic() + SETTLE
    while (left := _backed_by(images)) and time.monotonic() < deadline:
        for device in left:
            subprocess.run(["losetup", "--detach", device], capture_output=True)
        time.sleep(0.1)
    return left


@pytest.fixture
def loop_disks(tmp_path, media_root):
    """A maker of real disks; cleaned up even when the test fails."""
    _needs_root_and_tools()
    disks = LoopDisks(tmp_path)
    disks.watched.append(str(media_root))
    yield disks
    disks.cleanup()


@pytest.fixture
def no_broker_messages(monkeypatch):
    """Tests run the format task themselves: nothing is left in the broker for a later test's worker."""
    queued = []
    monkeypatch.setattr(tasks.disk_format, "delay", lambda *args: queued.append(args))
    return queued


@pytest.fixture
def admin(db):
    return UserFactory(admin=True, username="storage-admin")


@pytest.fixture
def media_root(tmp_path, settings, monkeypatch):
    """CASAOS_MEDIA_ROOT of this test, with this test's loop devices listed in the inventory."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT_DISKS = root
    settings.STORAGE_LOOP_DEVICES = True
    # Under xdist other workers plug loop devices in meanwhile: to this test's hotplug listener each would be a new
    # disk, announced and (automount on) mounted from under the other test's feet.
    monkeypatch.setattr(block, "list_devices", _loops_over(tmp_path, block.list_devices))
    return root


def _loops_over(folder: Path, list_devices):
    """`list_devices` keeping, of the loop devices, those over an image file in `folder`."""

    def ours(device) -> bool:
        backing = Path("/sys/block", device.name, "loop", "backing_file")
        try:
            return Path(backing.read_text().strip()).is_relative_to(folder)
        except OSError:  # detached meanwhile
            return False

    return lambda: [device for device in list_devices() if device.type != "loop" or ours(device)]


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


def _redis_apart() -> str:
    """This xdist worker's spare Redis database, emptied: the broker of no other stack. (The database number plus 8
    was another worker's own: the session live stack there took this stack's format task and looked for the job in
    its own database.)"""
    url = os.environ["CASAOS_TEST_SPARE_REDIS_URL"]
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def storage_stack(media_root, settings, transactional_db):
    """A server and worker of the test's own that list loop devices and mount under its media root."""
    from tests.conftest import LiveStack, _database_url

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test",
        "DATABASE_URL": _database_url(),
        "CASAOS_MEDIA_ROOT": str(media_root),
        "CASAOS_STORAGE_LOOP_DEVICES": "true",
        "CASAOS_REDIS_URL": _redis_apart(),
    }
    stack = LiveStack(env)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
