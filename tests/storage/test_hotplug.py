"""Hotplug on real loop devices: heard through netlink (and by polling where netlink is unavailable), announced,
automounted only when the admin turned it on, and a filesystem pulled out without an eject reported."""

import subprocess
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client

from accounts.models import AuditEvent
from casaos_site.i18n import shown
from storage import hotplug
from storage.host import mergerfs, uevents
from storage.host import mount as host_mount
from storage.models import Disk, Mount, Pool, StorageSettings
from storage.mounts import mount_create
from storage.pools import pool_create
from tests.factories import UserFactory
from tests.storage.conftest import fs_uuid, make_fs

pytestmark = pytest.mark.django_db(transaction=True)
SEEN_WITHIN = 8.0  # seconds: "at once" on a shared 2-core machine


@pytest.fixture
def announced(monkeypatch):
    """What the hotplug service published to the storage group, as (event, data)."""
    events = []
    monkeypatch.setattr(hotplug, "publish", lambda group, event, data: events.append((event, data)))
    return events


def netlink_monitor(ready: threading.Event):
    def make():
        monitor = uevents.block_monitor()
        ready.set()
        return monitor

    return make


def no_netlink(ready: threading.Event):
    def make():
        ready.set()
        raise uevents.Unavailable("no kernel uevents: netlink refused (test)")

    return make


@contextmanager
def listening(factory):
    """The listener as the worker runs it: a thread, until stopped."""
    stop, ready, used = threading.Event(), threading.Event(), []

    def run():
        try:
            used.append(hotplug.hotplug_listen(stop=stop, monitor_factory=factory(ready)))
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="storage-hotplug", daemon=True)
    thread.start()
    assert ready.wait(15), "the listener did not start"
    try:
        yield used
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()


def eventually(check, seconds: float = SEEN_WITHIN):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"not seen within {seconds}s")


def ext4_image(loop_disks, label: str):
    image = loop_disks.image()
    make_fs(str(image), "ext4", label)
    return image


def present(device: str) -> Disk | None:
    return Disk.objects.filter(path=device, present=True).first()


def test_a_plugged_disk_is_heard_through_netlink_and_announced_not_mounted_by_default(
    loop_disks, media_root, announced
):
    image = ext4_image(loop_disks, "USB")
    with listening(netlink_monitor) as used:
        device = loop_disks.attach(image)
        disk = eventually(lambda: present(device))
        eventually(lambda: [d for e, d in announced if e == hotplug.ADDED_EVENT and d["disk"] == disk.stable_id])
    assert used == ["netlink"]
    assert not StorageSettings.load().automount  # off by default
    assert not Mount.objects.exists() and not any(media_root.iterdir())


def test_a_plugged_disk_is_automounted_when_the_admin_turned_it_on(loop_disks, media_root, announced):
    StorageSettings.objects.create(pk=1, automount=True)
    image = ext4_image(loop_disks, "USB")
    with listening(netlink_monitor):
        device = loop_disks.attach(image)
        mount = eventually(lambda: Mount.objects.filter(fs_uuid=fs_uuid(device)).first())
        added = eventually(lambda: [d for e, d in announced if e == hotplug.ADDED_EVENT and d["name"] == device[5:]])
    assert mount.target == str(media_root / "USB") and host_mount.is_mounted(mount.target)
    assert added == [{**added[0], "mounted": [mount.target]}]
    assert AuditEvent.objects.filter(action="storage.automount", target=mount.target).exists()


def test_polling_finds_a_plugged_disk_where_netlink_is_unavailable(loop_disks, media_root, announced, settings):
    settings.STORAGE_HOTPLUG_POLL = 1
    image = ext4_image(loop_disks, "USB")
    with listening(no_netlink) as used:
        device = loop_disks.attach(image)
        disk = eventually(lambda: present(device))
        eventually(lambda: [d for e, d in announced if e == hotplug.ADDED_EVENT and d["disk"] == disk.stable_id])
        loop_disks.detach(device)
        eventually(lambda: [d for e, d in announced if e == hotplug.REMOVED_EVENT and d["disk"] == disk.stable_id])
    assert used == ["poll"]


def pull_out(loop_disks, device: str, target: str) -> None:
    """A USB disk yanked out: the filesystem goes from under its mount point, then the device goes."""
    subprocess.run(["umount", "--lazy", "--", target], check=True)
    loop_disks.detach(device)


def test_a_mounted_disk_pulled_out_without_eject_is_reported_and_comes_back(loop_disks, media_root, announced):
    image = ext4_image(loop_disks, "Photos")
    device = loop_disks.attach(image)
    mount = mount_create(fs_uuid=fs_uuid(device))
    (media_root / "Photos" / "kept.txt").write_text("still here")
    with listening(netlink_monitor):
        pull_out(loop_disks, device, mount.target)
        lost = eventually(lambda: [d for e, d in announced if e == hotplug.LOST_EVENT])
        mount.refresh_from_db()
        assert mount.state == Mount.State.LOST and "without an eject" in mount.last_error
        assert lost[0]["target"] == mount.target
        assert AuditEvent.objects.filter(action="storage.mount.lost", target=mount.target).exists()
        loop_disks.attach(image)  # plugged in again: mounted where it was (our table), automount or not
        eventually(lambda: Mount.objects.get(pk=mount.pk).state == Mount.State.MOUNTED)
    assert (media_root / "Photos" / "kept.txt").read_text() == "still here"


def test_a_pool_member_pulled_out_leaves_the_pool_degraded_on_the_others_until_it_returns(
    loop_disks, media_root, announced
):
    images = [ext4_image(loop_disks, label) for label in ("One", "Two")]
    devices = [loop_disks.attach(image) for image in images]
    one, two = (mount_create(fs_uuid=fs_uuid(device)) for device in devices)
    pool = pool_create(name="Both", mount_ids=[one.pk, two.pk])
    with listening(netlink_monitor):
        pull_out(loop_disks, devices[1], two.target)
        eventually(lambda: Pool.objects.get(pk=pool.pk).state == Pool.State.DEGRADED)
        pool.refresh_from_db()
        assert shown(pool.last_error) == "missing: Two"
        # Over the disk that is left, never the empty folder the pulled one leaves: a new file lands on One.
        assert mergerfs.branches(pool.target) == [one.target]
        (media_root / "Both" / "new.txt").write_text("kept")
        assert (media_root / "One" / "new.txt").exists() and not (media_root / "Two" / "new.txt").exists()

        loop_disks.attach(images[1])
        eventually(lambda: Pool.objects.get(pk=pool.pk).state == Pool.State.MOUNTED)
    assert mergerfs.branches(pool.target) == [one.target, two.target]
    assert Pool.objects.get(pk=pool.pk).last_error == ""


def test_a_pool_whose_members_are_all_pulled_out_is_lost_and_unmounted(loop_disks, media_root, announced):
    image = ext4_image(loop_disks, "Only")
    device = loop_disks.attach(image)
    only = mount_create(fs_uuid=fs_uuid(device))
    pool = pool_create(name="Alone", mount_ids=[only.pk])
    with listening(netlink_monitor):
        pull_out(loop_disks, device, only.target)
        eventually(lambda: Pool.objects.get(pk=pool.pk).state == Pool.State.LOST)
        assert not host_mount.is_mounted(pool.target)
        loop_disks.attach(image)
        eventually(lambda: Pool.objects.get(pk=pool.pk).state == Pool.State.MOUNTED)
    assert mergerfs.branches(pool.target) == [only.target]


# ---------------------------------------------------------------------------- the setting and its API
def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_storage_settings_are_admin_only_validated_and_audited(admin):
    client = client_of(admin)
    assert client.get("/api/storage/settings/").json() == {"automount": False, "full_threshold": 90}
    response = client.patch("/api/storage/settings/", {"automount": True}, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"automount": True, "full_threshold": 90}
    assert StorageSettings.load().automount
    event = AuditEvent.objects.get(action="storage.settings")
    assert event.actor == admin and event.details == {"automount": True}
    bad = client.patch("/api/storage/settings/", {"full_threshold": 101}, content_type="application/json")
    assert bad.status_code == 400 and "full_threshold" in bad.json()
    member = client_of(UserFactory(username="member"))
    assert member.patch("/api/storage/settings/", {"automount": False}, content_type="application/json").status_code
    assert member.get("/api/storage/settings/").status_code == 403
    assert StorageSettings.load().automount and StorageSettings.load().full_threshold == 90
