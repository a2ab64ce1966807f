"""A real restart of the server and its worker: our mount table and pools are mounted again by the worker that
starts (the `storage.reapply` it queues), nofail: a disk unplugged while the machine was down is marked missing, its
pool runs degraded over the disk that is left, and neither holds the start-up.

The stack is the test's own (`storage_stack`: loop devices listed, its media root, a Redis database apart).
"""

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from casaos_site.i18n import shown
from storage.host import mergerfs
from storage.host import mount as host_mount
from storage.models import Mount, Pool
from storage.mounts import mount_create
from storage.pools import pool_create
from tests.storage.conftest import fs_uuid, make_fs

pytestmark = [pytest.mark.stack]
REAPPLIED_WITHIN = 60  # seconds after the worker answers: a loaded 2-core machine


def eventually(check, seconds: float = REAPPLIED_WITHIN):
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, "not reapplied in time"
        time.sleep(0.3)
    return result


def states() -> dict[str, str]:
    return dict(Mount.objects.values_list("name", "state")) | dict(Pool.objects.values_list("name", "state"))


def ext4_mounted(loop_disks, label: str) -> tuple[str, Mount]:
    device = loop_disks.make()
    make_fs(device, "ext4", label)
    return device, mount_create(fs_uuid=fs_uuid(device))


def power_cycle(pool: str, targets: list[str]) -> None:
    """What a reboot leaves: none of our filesystems mounted (the pool first: its daemon holds the disks)."""
    mergerfs.unmount(pool)
    for target in targets:
        subprocess.run(["umount", "--", target], check=True)


def test_mounts_and_pools_come_back_after_a_restart_and_a_missing_disk_blocks_nothing(loop_disks, storage_stack):
    _, kept = ext4_mounted(loop_disks, "Kept")
    gone_device, gone = ext4_mounted(loop_disks, "Gone")
    _, alone = ext4_mounted(loop_disks, "Alone")
    pool = pool_create(name="Both", mount_ids=[kept.pk, gone.pk])
    (Path(kept.target) / "kept.txt").write_text("still here")

    storage_stack.stop()
    power_cycle(pool.target, [kept.target, gone.target, alone.target])
    loop_disks.detach(gone_device)  # unplugged while the machine was down
    storage_stack.start()  # returns once the server listens and the worker answers: nothing waited for the disk

    with urllib.request.urlopen(f"{storage_stack.url}/login/", timeout=10) as answer:
        assert answer.status == 200
    expected = {"Kept": "mounted", "Gone": "missing", "Alone": "mounted", "Both": "degraded"}
    eventually(lambda: states() == expected)
    assert all(host_mount.is_mounted(m.target) for m in (kept, alone))
    assert (Path(kept.target) / "kept.txt").read_text() == "still here"
    assert mergerfs.branches(pool.target) == [kept.target]
    assert shown(Pool.objects.get(pk=pool.pk).last_error) == "missing: Gone"
