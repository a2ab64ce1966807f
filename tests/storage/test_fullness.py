"""The disk-full warning on a real loop disk: published once when the disk fills past the threshold, again only
after it went back below."""

import os

import pytest

from storage import fullness
from storage.models import Mount, StorageSettings
from storage.mounts import mount_create
from tests.storage.conftest import fs_uuid, make_fs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def warnings(monkeypatch):
    """The disk-full events published to the storage group."""
    events = []
    monkeypatch.setattr(fullness, "publish", lambda group, event, data: events.append((group, event, data)))
    return events


def fill(folder, name: str, up_to: float) -> None:
    """Write a file until the filesystem is `up_to` percent used (real blocks: zeros are written, not a hole)."""
    with (folder / name).open("wb") as fh:
        while fullness.used_percent(str(folder)) < up_to:
            fh.write(b"\0" * (1 << 20))
            fh.flush()
            os.fsync(fh.fileno())


def small_disk(loop_disks) -> Mount:
    device = loop_disks.make(size="64M")
    make_fs(device, "ext4", "Small")
    return mount_create(fs_uuid=fs_uuid(device))


def test_a_filling_disk_warns_once_per_crossing(loop_disks, media_root, warnings):
    mount = small_disk(loop_disks)
    folder = media_root / "Small"
    assert fullness.full_check() == 0 and warnings == []
    fill(folder, "big.bin", 92)
    assert fullness.full_check() == 1
    assert fullness.full_check() == 0  # still full: not announced at every look
    [(group, event, data)] = warnings
    assert (group, event) == ("storage", "storage.space.low")
    assert data["target"] == mount.target and data["threshold"] == 90 and data["used_percent"] >= 90
    (folder / "big.bin").unlink()
    assert fullness.full_check() == 0 and not Mount.objects.get(pk=mount.pk).full_warned  # re-armed
    fill(folder, "again.bin", 92)
    assert fullness.full_check() == 1 and len(warnings) == 2


def test_the_threshold_is_the_admins_setting(loop_disks, media_root, warnings):
    small_disk(loop_disks)
    fill(media_root / "Small", "half.bin", 60)
    assert fullness.full_check() == 0
    StorageSettings.objects.update_or_create(pk=1, defaults={"full_threshold": 55})
    assert fullness.full_check() == 1 and warnings[0][2]["threshold"] == 55
