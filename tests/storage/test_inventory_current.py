"""The stored inventory is what pages and the API show: the host is read on hotplug, by actions and when the stored
read is too old, never once per request (a Pi would pay lsblk, blkid and findmnt for every page view)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from storage import hotplug
from storage.host import block
from storage.models import Disk
from storage.page import disk_cards

pytestmark = pytest.mark.django_db


def lsblk(*names: str) -> list[block.BlockDevice]:
    devices = [{"name": n, "path": f"/dev/{n}", "type": "disk", "size": 10**12, "mountpoints": [None]} for n in names]
    return block.parse_lsblk(json.dumps({"blockdevices": devices}))


@pytest.fixture
def host(monkeypatch):
    """A host with the disks of `host.disks`, counting how often it is read."""

    class Host:
        disks = ["vda"]
        reads = 0

        def devices(self):
            self.reads += 1
            return lsblk(*self.disks)

    fake = Host()
    monkeypatch.setattr(block, "list_devices", fake.devices)
    monkeypatch.setattr(block, "list_mounts", lambda: [])
    return fake


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def names(response) -> set[str]:
    return {disk["name"] for disk in response.json()}


def test_requests_read_the_stored_inventory_not_the_host(host, admin_client):
    for _ in range(3):
        assert names(admin_client.get("/api/storage/disks/")) == {"vda"}
        assert admin_client.get("/storage/cards/").status_code == 200
    assert host.reads == 1  # the first request found nothing stored and read the host once


def test_a_stored_read_older_than_the_maximum_age_is_read_again(host, admin_client, settings):
    admin_client.get("/api/storage/disks/")
    host.disks = ["vda", "sdb"]
    Disk.objects.update(last_seen=timezone.now() - timedelta(seconds=settings.STORAGE_INVENTORY_MAX_AGE + 1))
    assert names(admin_client.get("/api/storage/disks/")) == {"vda", "sdb"}
    assert host.reads == 2


def test_a_hotplug_change_is_shown_at_once(host, admin_client, monkeypatch):
    monkeypatch.setattr(hotplug, "publish", lambda *args: None)
    admin_client.get("/api/storage/disks/")
    host.disks = ["vda", "sdb"]
    hotplug.hotplug_changed()  # what the listener runs on a block uevent
    assert names(admin_client.get("/api/storage/disks/")) == {"vda", "sdb"}
    host.disks = ["vda"]
    hotplug.hotplug_changed()
    assert names(admin_client.get("/api/storage/disks/")) == {"vda"}
    assert [card.disk.name for card in disk_cards()] == ["vda"]
