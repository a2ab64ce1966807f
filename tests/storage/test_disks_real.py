"""Disks for real: loop devices formatted, mounted, written, unmounted, remounted, pooled and refused.

Needs root and the storage tools (scripts/setup.sh installs them); `make test` has both. Every loop device is
detached and every mount undone by the loop_disks fixture, even when a test fails.
"""

import asyncio
import subprocess

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client

from accounts.models import AuditEvent
from casaos_site.i18n import shown
from storage import tasks
from storage.formatting import JOB_EVENT
from storage.host import mergerfs
from storage.host import mount as host_mount
from storage.inventory import inventory_refresh
from storage.models import Disk, DiskJob, HealthSample, Mount, Pool
from storage.mounts import mount_create, mount_remove, mounts_reapply
from storage.pools import pools_reapply
from tests.clients import logged_in
from tests.factories import UserFactory
from tests.storage.conftest import fs_uuid, make_fs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_broker_messages")]
MOUNTABLE = ["ext4", "xfs", "btrfs", "exfat", "ntfs", "vfat"]


def api(user, *, stepped_up=False) -> Client:
    return logged_in(user, stepped_up=stepped_up)


def disk_of(device: str) -> Disk:
    inventory_refresh()
    return Disk.objects.get(path=device)


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def ext4_mounted(loop_disks, label="Data"):
    device = loop_disks.make()
    make_fs(device, "ext4", label)
    return device, mount_create(fs_uuid=fs_uuid(device))


# ---------------------------------------------------------------------------- mount existing filesystems
@pytest.mark.parametrize("fstype", MOUNTABLE)
def test_it_mounts_an_existing_filesystem_and_the_data_survives_a_remount(loop_disks, media_root, admin, fstype):
    device = loop_disks.make()
    make_fs(device, fstype, "DISK")
    client = api(admin)
    response = post(client, "/api/storage/mounts/", {"uuid": fs_uuid(device)})
    assert response.status_code == 201, response.json()
    mount = Mount.objects.get(pk=response.json()["id"])
    assert mount.target == str(media_root / "DISK") and host_mount.is_mounted(mount.target)
    (media_root / "DISK" / "hello.txt").write_text("still here")

    assert post(client, f"/api/storage/mounts/{mount.pk}/unmount/").status_code == 204
    assert not host_mount.is_mounted(mount.target) and not Mount.objects.exists()
    assert post(client, "/api/storage/mounts/", {"uuid": fs_uuid(device)}).status_code == 201
    assert (media_root / "DISK" / "hello.txt").read_text() == "still here"
    assert {"storage.mount", "storage.unmount"} <= set(AuditEvent.objects.values_list("action", flat=True))


def test_the_listing_shows_the_mount_with_its_space(loop_disks, media_root, admin):
    device, mount = ext4_mounted(loop_disks)
    disks = api(admin).get("/api/storage/disks/").json()
    (ours,) = [d for d in disks if d["name"] == device.removeprefix("/dev/")]
    (whole,) = ours["partitions"]
    assert whole["mountpoint"] == mount.target and whole["free"] > 0 and whole["fstype"] == "ext4"
    assert ours["is_system"] is False and any(d["is_system"] for d in disks)


def test_mounts_are_reapplied_at_start_and_a_missing_disk_blocks_nothing(loop_disks, media_root):
    _, kept = ext4_mounted(loop_disks, "Kept")
    gone_device, gone = ext4_mounted(loop_disks, "Gone")
    (media_root / "Kept" / "a.txt").write_text("a")
    # A restart: nothing is mounted any more, and one disk was unplugged meanwhile.
    for target in (kept.target, gone.target):
        subprocess.run(["umount", "--", target], check=True)
    loop_disks.detach(gone_device)

    assert tasks.storage_reapply() == {"mounts": {"Gone": "missing", "Kept": "mounted"}, "pools": {}}
    assert (media_root / "Kept" / "a.txt").read_text() == "a"
    assert Mount.objects.get(name="Gone").state == Mount.State.MISSING


# ---------------------------------------------------------------------------- format (a task with progress)
def _progress_listener():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("storage", channel)
    return layer, channel


async def _drain(layer, channel) -> list[dict]:
    found = []
    while True:
        try:
            found.append(await asyncio.wait_for(layer.receive(channel), timeout=2))
        except TimeoutError:
            return found


def _events(layer, channel) -> list[dict]:
    return async_to_sync(_drain)(layer, channel)


@pytest.mark.parametrize("fstype", ["ext4", "xfs", "btrfs", "exfat"])
def test_it_formats_a_whole_disk_as_a_task_and_mounts_it(loop_disks, media_root, admin, fstype, no_broker_messages):
    device = loop_disks.make()
    disk = disk_of(device)
    layer, channel = _progress_listener()
    response = post(
        api(admin, stepped_up=True),
        f"/api/storage/disks/{disk.stable_id}/format/",
        {"fstype": fstype, "label": "Fresh", "confirm": disk.name},
    )
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]
    assert no_broker_messages == [(job_id,)]  # queued once the job row is committed

    tasks.disk_format(job_id)  # what the worker runs: lookup + service

    job = DiskJob.objects.get(pk=job_id)
    assert (job.status, job.progress, job.error) == ("done", 100, "")
    assert job.mount.target == str(media_root / "Fresh") and host_mount.is_mounted(job.mount.target)
    (media_root / "Fresh" / "x.bin").write_bytes(b"x" * 4096)
    blkid = subprocess.run(
        ["blkid", "-c", "/dev/null", "-o", "export", "--", device + "p1"], capture_output=True, text=True
    ).stdout
    assert f"TYPE={fstype}" in blkid and "LABEL=Fresh" in blkid
    steps = [m["data"]["step"] for m in _events(layer, channel) if m["event"] == JOB_EVENT]
    assert steps[:1] == ["checking"] and "making the filesystem" in steps and steps[-1] == "done"


# ---------------------------------------------------------------------------- Safety first: every refusal
def test_format_needs_a_step_up(loop_disks, media_root, admin):
    disk = disk_of(loop_disks.make())
    response = post(
        api(admin),
        f"/api/storage/disks/{disk.stable_id}/format/",
        {"fstype": "ext4", "label": "X", "confirm": disk.name},
    )
    assert (response.status_code, response.json()["code"]) == (403, "stepup")
    assert not DiskJob.objects.exists()


def test_format_needs_the_typed_model_and_serial(loop_disks, media_root, admin):
    disk = disk_of(loop_disks.make())
    response = post(
        api(admin, stepped_up=True),
        f"/api/storage/disks/{disk.stable_id}/format/",
        {"fstype": "ext4", "label": "X", "confirm": "yes"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "confirmation")
    assert disk.name in response.json()["detail"] and not DiskJob.objects.exists()


def test_the_system_disk_can_never_be_formatted_unmounted_or_ejected(media_root, admin):
    inventory_refresh()
    system = Disk.objects.filter(is_system=True).first()
    assert system is not None, "the disk holding / must be marked"
    client = api(admin, stepped_up=True)
    fmt = post(
        client,
        f"/api/storage/disks/{system.stable_id}/format/",
        {
            "fstype": "ext4",
            "label": "X",
            "confirm": " ".join(filter(None, [system.model, system.serial])) or system.name,
        },
    )
    eject = post(client, f"/api/storage/disks/{system.stable_id}/eject/")
    for response in (fmt, eject):
        assert (response.status_code, response.json()["code"]) == (409, "system-disk")
        assert "system disk" in response.json()["detail"]
    assert not DiskJob.objects.exists()


def test_a_mount_on_what_became_a_system_disk_cannot_be_unmounted(loop_disks, media_root, admin, settings):
    _, mount = ext4_mounted(loop_disks)
    settings.STORAGE_SYSTEM_PATHS = [mount.target]  # say the engine's data lives there now
    response = post(api(admin), f"/api/storage/mounts/{mount.pk}/unmount/")
    assert (response.status_code, response.json()["code"]) == (409, "system-disk")
    assert host_mount.is_mounted(mount.target)


def test_a_disk_with_a_mounted_filesystem_is_not_formatted_until_unmounted(loop_disks, media_root, admin):
    device, mount = ext4_mounted(loop_disks)
    disk = disk_of(device)
    response = post(
        api(admin, stepped_up=True),
        f"/api/storage/disks/{disk.stable_id}/format/",
        {"fstype": "ext4", "label": "X", "confirm": disk.name},
    )
    assert (response.status_code, response.json()["code"]) == (409, "mounted")
    assert mount.target in response.json()["detail"] and host_mount.is_mounted(mount.target)


def test_a_task_rechecks_before_it_writes(loop_disks, media_root, admin):
    device = loop_disks.make()
    disk = disk_of(device)
    response = post(
        api(admin, stepped_up=True),
        f"/api/storage/disks/{disk.stable_id}/format/",
        {"fstype": "ext4", "label": "X", "confirm": disk.name},
    )
    make_fs(device, "ext4", "Meanwhile")  # someone mounts a filesystem on it between queueing and running
    mount_create(fs_uuid=fs_uuid(device))
    tasks.disk_format(response.json()["id"])
    job = DiskJob.objects.get()
    assert job.status == "failed" and "unmount it first" in job.error


@pytest.mark.parametrize("value", ["/dev/vda", "../../dev/vda", "/dev/loop0p1"])
def test_a_raw_path_from_the_client_is_never_used(loop_disks, media_root, admin, value):
    client = api(admin, stepped_up=True)
    response = post(client, "/api/storage/mounts/", {"uuid": value})
    assert (response.status_code, response.json()["code"]) == (400, "raw-path")
    assert client.post(f"/api/storage/disks/{value}/format/").status_code == 404
    assert client.post(f"/api/storage/disks/{value.replace('/', '%2F')}/eject/").status_code == 404
    assert not Mount.objects.exists() and not DiskJob.objects.exists()


def test_a_busy_filesystem_names_the_processes_holding_it(loop_disks, media_root, admin):
    _, mount = ext4_mounted(loop_disks)
    holder = subprocess.Popen(["sleep", "60"], cwd=mount.target)
    try:
        response = post(api(admin), f"/api/storage/mounts/{mount.pk}/unmount/")
    finally:
        holder.kill()
        holder.wait()
    assert (response.status_code, response.json()["code"]) == (409, "busy")
    assert {"pid": holder.pid, "command": "sleep", "path": mount.target} in response.json()["holders"]
    assert Mount.objects.filter(pk=mount.pk).exists()


def test_members_and_outsiders_reach_nothing(loop_disks, media_root):
    device, mount = ext4_mounted(loop_disks)
    disk = disk_of(device)
    member = api(UserFactory(), stepped_up=True)
    for url in (f"/api/storage/disks/{disk.stable_id}/eject/", f"/api/storage/mounts/{mount.pk}/unmount/"):
        assert post(member, url).status_code == 403
    assert host_mount.is_mounted(mount.target)


def test_eject_syncs_and_unmounts_our_mounts(loop_disks, media_root, admin):
    device, mount = ext4_mounted(loop_disks)
    disk = disk_of(device)
    response = post(api(admin), f"/api/storage/disks/{disk.stable_id}/eject/")
    assert response.json() == {"ejected": True, "powered_off": False}  # a loop device has no port to power off
    assert not host_mount.is_mounted(mount.target) and not Mount.objects.exists()


# ---------------------------------------------------------------------------- pools
def test_a_pool_of_two_disks_is_written_through_changed_and_removed(loop_disks, media_root, admin):
    _, one = ext4_mounted(loop_disks, "One")
    _, two = ext4_mounted(loop_disks, "Two")
    client = api(admin)
    response = post(client, "/api/storage/pools/", {"name": "Pool", "members": [one.pk, two.pk], "policy": "mfs"})
    assert response.status_code == 201, response.json()
    pool = Pool.objects.get()
    (media_root / "Pool" / "movie.mkv").write_bytes(b"m" * 1024)
    assert (media_root / "One" / "movie.mkv").exists() or (media_root / "Two" / "movie.mkv").exists()
    assert mergerfs.branches(pool.target) == [one.target, two.target]

    refused = post(client, f"/api/storage/mounts/{one.pk}/unmount/")
    assert (refused.status_code, refused.json()["code"]) == (409, "pooled")

    changed = client.patch(
        f"/api/storage/pools/{pool.pk}/", {"members": [two.pk], "policy": "epmfs"}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["members"] == [two.pk]
    assert mergerfs.branches(pool.target) == [two.target]

    assert client.delete(f"/api/storage/pools/{pool.pk}/").status_code == 204
    assert not host_mount.is_mounted(pool.target) and host_mount.is_mounted(two.target)
    assert mergerfs.daemons(pool.target) == [], "the pool's daemon still holds its members"
    mount_remove(mount=two)  # straight after: the member is free
    assert {"storage.pool.create", "storage.pool.change", "storage.pool.delete"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_pools_are_reapplied_after_their_disks(loop_disks, media_root):
    _, one = ext4_mounted(loop_disks, "One")
    _, two = ext4_mounted(loop_disks, "Two")
    from storage.pools import pool_create

    pool = pool_create(name="Both", mount_ids=[one.pk, two.pk])
    for target in (pool.target, one.target, two.target):
        subprocess.run(["umount", "--", target], check=True)
    mounts_reapply()
    assert pools_reapply() == {"Both": "mounted"} and mergerfs.branches(pool.target) == [one.target, two.target]


def test_a_pool_with_a_member_missing_at_start_is_mounted_degraded_over_the_others(loop_disks, media_root):
    _, one = ext4_mounted(loop_disks, "One")
    device, two = ext4_mounted(loop_disks, "Two")
    from storage.pools import pool_create

    pool = pool_create(name="Both", mount_ids=[one.pk, two.pk])
    for target in (pool.target, one.target, two.target):
        subprocess.run(["umount", "--", target], check=True)
    loop_disks.detach(device)  # unplugged while the server was down
    assert mounts_reapply() == {"One": "mounted", "Two": "missing"}
    assert pools_reapply() == {"Both": "degraded"} and mergerfs.branches(pool.target) == [one.target]
    assert shown(Pool.objects.get(pk=pool.pk).last_error) == "missing: Two"


def test_a_pool_refuses_unknown_or_unmounted_members_and_bad_names(loop_disks, media_root, admin):
    _, one = ext4_mounted(loop_disks, "One")
    client = api(admin)
    for body, code in [
        ({"name": "../etc", "members": [one.pk]}, "name"),
        ({"name": "One", "members": [one.pk]}, "name-taken"),
        ({"name": "P", "members": [one.pk, 999]}, "members"),
    ]:
        response = post(client, "/api/storage/pools/", body)
        assert response.json()["code"] == code, response.json()
    assert not Pool.objects.exists()


# ---------------------------------------------------------------------------- health
def test_a_device_without_smart_says_health_not_available(loop_disks, media_root, admin):
    disk = disk_of(loop_disks.make())
    response = api(admin).get(f"/api/storage/disks/{disk.stable_id}/smart/")
    assert response.status_code == 200
    assert response.json()["latest"]["health"] == "unavailable" and response.json()["latest"]["available"] is False
    assert HealthSample.objects.filter(disk=disk).count() == 1


def test_unmount_service_is_the_one_path(loop_disks, media_root):
    _, mount = ext4_mounted(loop_disks)
    mount_remove(mount=mount)
    assert not host_mount.is_mounted(mount.target) and not (media_root / "Data").exists()
