"""The inventory: stable ids, system disks, arrays shown instead of their members, and how rows follow disks."""

import json
from pathlib import Path

import pytest

from storage import inventory
from storage.host import block, mdstat
from storage.inventory import inventory_build, inventory_store
from storage.models import Disk

FIXTURES = Path(__file__).parent / "fixtures"
SYSTEM = {"/": "the system", "/var/lib/casaos": "our data folder", "/var/lib/docker": "the container engine's data"}


def dev(name, **extra) -> dict:
    return {"name": name, "path": f"/dev/{name}", "type": "disk", "size": 10**12, "mountpoints": [None], **extra}


def part(name, **extra) -> dict:
    return {"name": name, "path": f"/dev/{name}", "type": "part", "size": 10**11, "mountpoints": [None], **extra}


def build(devices, mounts=(), arrays=(), include_loop=False):
    listed = block.parse_lsblk(json.dumps({"blockdevices": devices}))
    entries = [block.MountEntry(t, s, "ext4") for t, s in mounts]
    return {
        i.stable_id: i
        for i in inventory_build(
            devices=listed, mounts=entries, arrays=list(arrays), system_paths=SYSTEM, include_loop=include_loop
        )
    }


def test_it_names_disks_by_wwn_then_serial_then_filesystem_uuid():
    found = build(
        [
            dev("sda", wwn="0x5000c500a1b2c3d4", serial="ZA1"),
            dev("sdb", serial="WD-WCC4 E1/23"),
            dev("sdc", children=[part("sdc1", fstype="exfat", uuid="6F3D-EEDF")]),
            dev("sdd"),
        ]
    )
    assert set(found) == {"wwn-0x5000c500a1b2c3d4", "serial-WD-WCC4_E1_23", "uuid-6F3D-EEDF", "dev-sdd"}
    assert found["dev-sdd"].id_kind == Disk.IdKind.DEVICE


def test_it_marks_the_disks_holding_root_data_and_engine():
    found = build(
        [
            dev("vda", serial="root"),
            dev("sdb", serial="data", children=[part("sdb1", fstype="ext4")]),
            dev("sdc", serial="docker"),
            dev("sdd", serial="spare"),
        ],
        mounts=[("/", "/dev/vda"), ("/var/lib/casaos", "/dev/sdb1"), ("/var/lib/docker", "/dev/sdc[/@docker]")],
    )
    assert found["serial-root"].system_reason == "the system (/)"
    assert found["serial-data"].system_reason == "our data folder (/var/lib/casaos)"
    assert found["serial-docker"].system_reason == "the container engine's data (/var/lib/docker)"
    assert found["serial-spare"].system_reason == ""


def test_a_filesystem_on_the_whole_disk_is_partition_zero():
    found = build([dev("sdb", serial="X", fstype="xfs", uuid="u1", label="Media", mountpoints=["/media/Media"])])
    (whole,) = found["serial-X"].partitions
    assert (whole.number, whole.path, whole.mountpoint) == (0, "/dev/sdb", "/media/Media")


def test_a_filesystem_lsblk_and_blkid_cannot_read_is_known_from_its_mount():
    # A virtual machine's root disk that we may not open: lsblk has no fstype and blkid reads nothing (EPERM), yet
    # findmnt says what is mounted, so the card shows / with its usage instead of "No filesystem".
    found = build(
        [
            dev("vda", serial="root", mountpoints=["/var/lib/containers/storage/overlay", "/"]),
            dev("sdb", serial="B", children=[part("sdb1")]),
        ],
        mounts=[("/", "/dev/vda"), ("/var/lib/containers/storage/overlay", "/dev/vda"), ("/srv", "/dev/sdb1[/@srv]")],
    )
    (whole,) = found["serial-root"].partitions
    assert (whole.number, whole.fstype, whole.mountpoint) == (0, "ext4", "/")
    (sdb1,) = found["serial-B"].partitions
    assert (sdb1.fstype, sdb1.mountpoint) == ("ext4", "/srv")
    assert found["serial-root"].system_reason == "the system (/)"


def test_loop_devices_are_listed_only_when_asked():
    loops = [dev("loop0", type="loop", fstype="ext4", uuid="l0"), dev("loop1", type="loop", size=0)]
    assert build(loops) == {}
    assert list(build(loops, include_loop=True)) == ["uuid-l0"]


def test_an_md_array_is_shown_instead_of_its_members():
    array = {
        "name": "md0",
        "path": "/dev/md0",
        "type": "raid1",
        "size": 10**11,
        "fstype": "ext4",
        "uuid": "fs-md0",
        "label": "Mirror",
        "mountpoints": ["/srv/mirror"],
    }
    member = {"fstype": "linux_raid_member", "uuid": "array-uuid-1", "children": [array]}
    found = build(
        [
            dev("sdb", serial="B", children=[part("sdb1", **member)]),
            dev("sdc", serial="C", children=[part("sdc1", **member)]),
        ],
        arrays=mdstat.parse_mdstat((FIXTURES / "mdstat_raid1_clean.txt").read_text()),
    )
    arr = found["md-array-uuid-1"]
    assert arr.kind == Disk.Kind.ARRAY and arr.array["level"] == "raid1" and not arr.array["degraded"]
    assert [(p.path, p.fstype, p.mountpoint) for p in arr.partitions] == [("/dev/md0", "ext4", "/srv/mirror")]
    assert found["serial-B"].member_of == found["serial-C"].member_of == "md-array-uuid-1"
    # The member's partition is listed as what it is, never as a filesystem to mount.
    assert [p.fstype for p in found["serial-B"].partitions] == ["linux_raid_member"]


def test_members_of_an_array_holding_the_system_are_system_disks():
    array = {"name": "md0", "path": "/dev/md0", "type": "raid1", "size": 1, "fstype": "ext4", "uuid": "f"}
    member = {"fstype": "linux_raid_member", "uuid": "a1", "children": [array]}
    found = build(
        [
            dev("sdb", serial="B", children=[part("sdb1", **member)]),
            dev("sdc", serial="C", children=[part("sdc1", **member)]),
        ],
        mounts=[("/", "/dev/md0")],
        arrays=mdstat.parse_mdstat((FIXTURES / "mdstat_raid1_clean.txt").read_text()),
    )
    assert found["md-a1"].system_reason == "the system (/)"
    assert found["serial-B"].system_reason and found["serial-C"].system_reason  # they hold it as much as md0 does


@pytest.mark.django_db
def test_stored_rows_keep_their_history_and_follow_a_reformatted_weak_disk():
    first = inventory_store(list(build([dev("sdb", serial="S"), dev("sdc")]).values()))
    assert {d.stable_id for d in first} == {"serial-S", "dev-sdc"}
    blank = Disk.objects.get(stable_id="dev-sdc")
    # sdc gets a filesystem (its id becomes the UUID) and sdb is unplugged.
    inventory_store(list(build([dev("sdc", children=[part("sdc1", fstype="ext4", uuid="new")])]).values()))
    blank.refresh_from_db()
    assert blank.stable_id == "uuid-new" and blank.partitions.get().uuid == "new"
    assert Disk.objects.get(stable_id="serial-S").present is False


@pytest.mark.django_db(transaction=True)
def test_the_inventory_event_is_published_only_when_something_changed(monkeypatch):
    # Every open Storage page fetches its cards on this event, and fetching the cards reads the inventory: an event
    # on every read made each page fetch its cards in an endless loop.
    published = []
    monkeypatch.setattr(inventory, "publish_on_commit", lambda group, event, data: published.append(event))
    disks = [dev("sdb", serial="S", children=[part("sdb1", fstype="ext4", uuid="u1")])]
    inventory_store(list(build(disks).values()))
    inventory_store(list(build(disks).values()))
    assert published == [inventory.INVENTORY_EVENT]
    disks[0]["children"][0]["mountpoints"] = ["/media/Data"]
    inventory_store(list(build(disks).values()))
    inventory_store(list(build([]).values()))
    assert published == [inventory.INVENTORY_EVENT] * 3
