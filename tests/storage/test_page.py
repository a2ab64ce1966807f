"""The Storage page: a card per disk and every action through the same services as the API, on real loop devices.

Each action and each refusal goes through the page (a form POST): done → back to the page with a note; refused →
the page again with the reason at its 4xx. Needs root and the storage tools, like test_disks_real.py.
"""

import subprocess
import time

import pytest
from django.test import Client

from accounts.models import AuditEvent
from accounts.permissions import STEPUP_SESSION_KEY
from storage import page, pools, tasks
from storage.host import mount as host_mount
from storage.inventory import inventory_refresh
from storage.models import Disk, DiskJob, HealthSample, Mount, Partition, Pool
from storage.mounts import mount_create
from tests.storage.conftest import fs_uuid, make_fs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_broker_messages")]


def browser(user, *, stepped_up=False, csrf=False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    if stepped_up:
        session = client.session
        session[STEPUP_SESSION_KEY] = time.time()
        session.save()
    return client


def disk_of(device: str) -> Disk:
    inventory_refresh()
    return Disk.objects.get(path=device)


def refused(response, status: int, words: str) -> str:
    """The page again, at the refusal's status, with the reason in a visible alert."""
    body = response.content.decode()
    assert response.status_code == status, body[:2000]
    assert 'id="storage-error"' in body and words in body
    return body


def ext4_mounted(loop_disks, label="Data"):
    device = loop_disks.make()
    make_fs(device, "ext4", label)
    return device, mount_create(fs_uuid=fs_uuid(device))


# ---------------------------------------------------------------------------- who may see it
def test_members_get_the_styled_403_and_no_menu_link(member_user):
    client = browser(member_user)
    response = client.get("/storage/")
    assert response.status_code == 403
    assert "<html" in response.content.decode()  # the site's 403 page, not a bare word
    assert client.get("/storage/cards/").status_code == 403
    assert client.post("/storage/mount/", {"uuid": "x"}).status_code == 403
    assert 'href="/storage/"' not in client.get("/").content.decode()


def test_anonymous_is_sent_to_the_login(db):
    response = Client().get("/storage/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_actions_need_the_csrf_token(admin):
    client = browser(admin, csrf=True)
    assert client.post("/storage/mount/", {"uuid": "whatever"}).status_code == 403
    assert client.post("/storage/pools/", {"name": "P"}).status_code == 403


def test_labels_models_and_serials_are_escaped(admin, monkeypatch):
    monkeypatch.setattr(page, "inventory_current", lambda: None)  # the rows below stand for what the host said
    disk = Disk.objects.create(
        stable_id="serial-x", id_kind="serial", name="sdz", path="/dev/sdz", model="<script>alert(1)</script>",
        serial='"><img src=x onerror=alert(2)>', transport="usb", size=10**9,
    )  # fmt: skip
    Partition.objects.create(disk=disk, number=1, name="sdz1", fstype="ext4", label="<b>Label</b>", uuid="u-1")
    body = browser(admin).get("/storage/").content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in body
    assert "<b>Label</b>" not in body and "&lt;b&gt;Label&lt;/b&gt;" in body


def test_a_usb_bridge_without_smart_says_health_not_available(admin, monkeypatch):
    monkeypatch.setattr(page, "inventory_current", lambda: None)
    disk = Disk.objects.create(
        stable_id="serial-usb", id_kind="serial", name="sdu", model="USB Bridge", transport="usb"
    )
    HealthSample.objects.create(disk=disk, health="unavailable", available=False, message="Unknown USB bridge")
    hot = Disk.objects.create(stable_id="serial-hot", id_kind="serial", name="sdh", model="HDD", transport="sata")
    HealthSample.objects.create(disk=hot, health="good", temperature=41)
    body = browser(admin).get("/storage/").content.decode()
    assert "Health not available" in body and "Healthy" in body and "41 °C" in body


# ---------------------------------------------------------------------------- the cards
def test_the_page_lists_a_loop_disk_with_its_filesystem_and_usage(loop_disks, media_root, admin):
    device, mount = ext4_mounted(loop_disks, label="Photos")
    body = browser(admin).get("/storage/").content.decode()
    disk = disk_of(device)
    assert f'data-disk="{disk.stable_id}"' in body
    assert "Photos" in body and mount.target in body and "ext4" in body
    assert f"Disk usage of {mount.target}" in body
    assert f'action="/storage/mounts/{mount.pk}/unmount/"' in body
    assert 'ws-connect="/ws/storage/"' in body


def test_the_system_disk_has_its_badge_and_no_format_or_eject(admin, media_root):
    inventory_refresh()
    system = Disk.objects.filter(is_system=True).first()
    body = browser(admin).get("/storage/").content.decode()
    assert "badge-system" in body
    assert f"/storage/disks/{system.stable_id}/format/" not in body
    assert f"/storage/disks/{system.stable_id}/eject/" not in body


def test_the_root_disk_shows_its_mount_even_when_lsblk_knows_no_filesystem(admin, media_root):
    # This machine's /dev/vda: lsblk reports no fstype and blkid may not open it; findmnt says what is mounted.
    inventory_refresh()
    root = next(d for d in Disk.objects.filter(is_system=True) if d.partitions.filter(mountpoint="/").exists())
    body = browser(admin).get("/storage/").content.decode()
    card = body[body.index(f'data-disk="{root.stable_id}"') :].split("</article>", 1)[0]
    assert "No filesystem on this disk." not in card
    assert 'aria-label="Disk usage of /"' in card and "<code>/</code>" in card


def test_a_pool_missing_a_member_says_which_and_that_it_runs_degraded(loop_disks, media_root, admin):
    _, one = ext4_mounted(loop_disks, "One")
    _, two = ext4_mounted(loop_disks, "Two")
    pool = pools.pool_create(name="Both", mount_ids=[one.pk, two.pk])
    Mount.objects.filter(pk=two.pk).update(state=Mount.State.LOST)
    pools.pool_follow_members(pool)
    body = browser(admin).get("/storage/").content.decode()
    card = body[body.index('data-pool="Both"') :].split("</article>", 1)[0]
    assert "Degraded" in card and "Missing:" in card and "<strong>Two</strong>" in card
    assert browser(admin).get(f"/api/storage/pools/{pool.pk}/").json()["missing"] == [two.pk]


# ---------------------------------------------------------------------------- mount, unmount, eject
def test_mount_and_unmount_through_the_page(loop_disks, media_root, admin):
    device = loop_disks.make()
    make_fs(device, "ext4", "Films")
    client = browser(admin)
    response = client.post("/storage/mount/", {"uuid": fs_uuid(device)})
    assert response.status_code == 302 and response["Location"] == "/storage/"
    mount = Mount.objects.get(name="Films")
    assert host_mount.is_mounted(mount.target)
    assert "Mounted at" in client.get("/storage/").content.decode()
    response = client.post(f"/storage/mounts/{mount.pk}/unmount/")
    assert response.status_code == 302
    assert not host_mount.is_mounted(mount.target) and not Mount.objects.exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"storage.mount", "storage.unmount"} <= actions


def test_mount_refusals_show_their_reason(loop_disks, media_root, admin):
    client = browser(admin)
    refused(client.post("/storage/mount/", {"uuid": "/dev/sda1"}), 400, "never by a device path")
    refused(client.post("/storage/mount/", {"uuid": "no-such-uuid"}), 404, "No filesystem with this id")
    _, mount = ext4_mounted(loop_disks)
    part = Partition.objects.get(uuid=mount.fs_uuid)
    refused(client.post("/storage/mount/", {"uuid": part.uuid}), 409, "already mounted")


def test_a_busy_unmount_lists_the_processes_on_the_page(loop_disks, media_root, admin):
    _, mount = ext4_mounted(loop_disks)
    holder = subprocess.Popen(["sleep", "60"], cwd=mount.target)
    try:
        response = browser(admin).post(f"/storage/mounts/{mount.pk}/unmount/")
    finally:
        holder.kill()
        holder.wait()
    body = refused(response, 409, "is in use by")
    assert f"({holder.pid})" in body and "<code>sleep</code>" in body


def test_eject_through_the_page(loop_disks, media_root, admin):
    device, mount = ext4_mounted(loop_disks)
    response = browser(admin).post(f"/storage/disks/{disk_of(device).stable_id}/eject/")
    assert response.status_code == 302
    assert not host_mount.is_mounted(mount.target) and not Mount.objects.exists()


def test_the_system_disk_is_refused_through_the_page(media_root, admin):
    inventory_refresh()
    system = Disk.objects.filter(is_system=True).first()
    client = browser(admin, stepped_up=True)
    refused(client.post(f"/storage/disks/{system.stable_id}/eject/"), 409, "system disk")
    form = {"fstype": "ext4", "label": "X", "confirm": page.confirmation_text(system)}
    refused(client.post(f"/storage/disks/{system.stable_id}/format/", form), 409, "system disk")
    refused(client.post("/storage/disks/..sda/format/", form), 400, "never by a device path")
    assert not DiskJob.objects.exists()


# ---------------------------------------------------------------------------- format
def test_format_through_the_page_needs_step_up_and_the_typed_model_and_serial(loop_disks, media_root, admin):
    disk = disk_of(loop_disks.make())
    url = f"/storage/disks/{disk.stable_id}/format/"
    form = {"fstype": "ext4", "label": "Backup", "confirm": page.confirmation_text(disk)}
    body = refused(browser(admin).post(url, form), 403, "step-up")
    assert 'href="/accounts/stepup/?next=/storage/"' in body
    client = browser(admin, stepped_up=True)
    refused(client.post(url, {**form, "confirm": "wrong"}), 400, "to confirm")
    refused(client.post(url, {**form, "label": "no/slash"}), 400, "abel")
    assert not DiskJob.objects.exists()
    response = client.post(url, form)
    assert response.status_code == 302
    job = DiskJob.objects.get(disk=disk)
    assert f'data-job="{job.pk}"' in client.get("/storage/").content.decode()
    tasks.disk_format(job.pk)
    job.refresh_from_db()
    assert job.status == DiskJob.Status.DONE and host_mount.is_mounted(job.mount.target)
    assert "Backup" in client.get("/storage/").content.decode()


def test_a_disk_with_a_mounted_filesystem_is_not_formatted_through_the_page(loop_disks, media_root, admin):
    device, _ = ext4_mounted(loop_disks)
    disk = disk_of(device)
    form = {"fstype": "ext4", "label": "X", "confirm": page.confirmation_text(disk)}
    body = browser(admin, stepped_up=True).get("/storage/").content.decode()
    assert f"/storage/disks/{disk.stable_id}/format/" not in body  # no button while mounted
    response = browser(admin, stepped_up=True).post(f"/storage/disks/{disk.stable_id}/format/", form)
    refused(response, 409, "unmount it first")


# ---------------------------------------------------------------------------- pools
def test_a_pool_of_two_is_made_changed_and_removed_through_the_page(loop_disks, media_root, admin):
    _, one = ext4_mounted(loop_disks, "One")
    _, two = ext4_mounted(loop_disks, "Two")
    client = browser(admin)
    response = client.post("/storage/pools/", {"name": "All", "members": [one.pk, two.pk], "policy": "mfs"})
    assert response.status_code == 302
    pool = Pool.objects.get(name="All")
    assert pool.policy == "mfs" and host_mount.is_mounted(pool.target)
    assert 'data-pool="All"' in client.get("/storage/").content.decode()
    refused(client.post(f"/storage/mounts/{one.pk}/unmount/"), 409, "member of the pool")
    response = client.post(f"/storage/pools/{pool.pk}/", {"members": [two.pk], "policy": "epmfs"})
    assert response.status_code == 302
    pool.refresh_from_db()
    assert list(pool.members.all()) == [two] and pool.policy == "epmfs"
    assert client.post(f"/storage/pools/{pool.pk}/delete/").status_code == 302
    assert not Pool.objects.exists() and host_mount.is_mounted(two.target)


def test_pool_refusals_show_their_reason(loop_disks, media_root, admin):
    _, one = ext4_mounted(loop_disks, "One")
    client = browser(admin)
    refused(client.post("/storage/pools/", {"name": "bad name!", "members": [one.pk]}), 400, "pool name")
    refused(client.post("/storage/pools/", {"name": "P", "members": []}), 400, "at least one")
    refused(client.post("/storage/pools/", {"name": "P", "members": ["x"]}), 400, "Choose mounted disks")
    refused(client.post("/storage/pools/", {"name": "P", "members": [one.pk], "policy": "rm"}), 400, "policy")
    assert not Pool.objects.exists()
