"""storage/host parsers and argv shapes, from documented output formats (no devices needed)."""

import json
from pathlib import Path

import pytest

from storage.host import block, format, mdstat, mergerfs, mount, smart
from storage.host.errors import HostError, ParseError

FIXTURES = Path(__file__).parent / "fixtures"


def smart_doc(name: str) -> dict:
    return json.loads((FIXTURES / f"smart_{name}.json").read_text())


# ---------------------------------------------------------------------------- smartctl
def test_it_reads_a_healthy_sata_hdd():
    report = smart.parse_smartctl(smart_doc("sata_hdd"))
    assert report.health == smart.Health.GOOD and report.passed is True
    assert (report.model, report.serial) == ("WDC WD40EFRX-68N32N0", "WD-WCC7K4HJ1234")
    assert (report.temperature, report.power_on_hours) == (34, 28214)
    assert (report.reallocated, report.pending, report.uncorrectable) == (0, 0, 0)


def test_it_warns_about_an_ssd_with_reallocated_sectors():
    report = smart.parse_smartctl(smart_doc("sata_ssd"))
    assert report.health == smart.Health.WARNING and report.passed is True
    assert report.reallocated == 8 and report.power_on_hours == 21043
    # No top-level temperature: the low byte of attribute 194's raw value ("31 (Min/Max 16/40)").
    assert report.temperature == 31


def test_it_reads_nvme_warnings_and_wear():
    report = smart.parse_smartctl(smart_doc("nvme"))
    assert report.protocol == "NVMe" and report.health == smart.Health.GOOD
    assert (report.critical_warning, report.percentage_used, report.temperature) == (0, 4, 41)
    assert report.power_on_hours == 9128 and report.uncorrectable == 0


def test_it_flags_a_worn_or_warning_nvme():
    doc = smart_doc("nvme")
    doc["nvme_smart_health_information_log"]["critical_warning"] = 4
    assert smart.parse_smartctl(doc).health == smart.Health.WARNING
    doc = smart_doc("nvme")
    doc["nvme_smart_health_information_log"]["percentage_used"] = 97
    assert smart.parse_smartctl(doc).health == smart.Health.WARNING


def test_it_reports_a_failing_disk():
    report = smart.parse_smartctl(smart_doc("failing_hdd"))
    assert report.health == smart.Health.FAILING and report.passed is False
    assert (report.reallocated, report.pending, report.uncorrectable) == (3872, 56, 56)


@pytest.mark.parametrize("name", ["usb_bridge", "usb_scsi_no_smart"])
def test_it_says_health_not_available_for_usb_without_smart(name):
    report = smart.parse_smartctl(smart_doc(name))
    assert report.health == smart.Health.UNAVAILABLE and report.available is False
    assert report.message  # a reason to show, never an exception


def test_it_knows_a_sleeping_disk():
    doc = {"smartctl": {"exit_status": 2, "messages": [{"string": "Device is in STANDBY mode, exit(2)"}]}}
    assert smart.parse_smartctl(doc).health == smart.Health.ASLEEP


# ---------------------------------------------------------------------------- /proc/mdstat
def test_it_reads_a_clean_mirror():
    (md0,) = mdstat.parse_mdstat((FIXTURES / "mdstat_raid1_clean.txt").read_text())
    assert (md0.name, md0.level, md0.active, md0.degraded) == ("md0", "raid1", True, False)
    assert [(m.device, m.index) for m in md0.members] == [("sdb1", 0), ("sdc1", 1)]
    assert (md0.raid_disks, md0.active_disks, md0.member_map, md0.blocks) == (2, 2, "UU", 976630464)


def test_it_reads_a_degraded_raid5_with_a_faulty_member():
    (md,) = mdstat.parse_mdstat((FIXTURES / "mdstat_raid5_degraded.txt").read_text())
    assert md.level == "raid5" and md.degraded and md.member_map == "UU_"
    assert [m.device for m in md.members if m.faulty] == ["sdf1"]


def test_it_reads_resync_recovery_pending_and_inactive_arrays():
    arrays = {a.name: a for a in mdstat.parse_mdstat((FIXTURES / "mdstat_resync.txt").read_text())}
    assert (arrays["md1"].sync_action, arrays["md1"].sync_percent, arrays["md1"].degraded) == ("resync", 27.4, False)
    assert (arrays["md2"].sync_action, arrays["md2"].sync_percent, arrays["md2"].degraded) == ("recovery", 3.1, True)
    assert arrays["md3"].readonly and arrays["md3"].sync_action == "resync pending"
    assert not arrays["md4"].active and arrays["md4"].members[0].flags == ("spare",)


def test_a_kernel_without_md_has_no_arrays(tmp_path):
    assert mdstat.read_arrays(tmp_path / "mdstat") == []


# ---------------------------------------------------------------------------- lsblk, blkid, findmnt
LSBLK = {
    "blockdevices": [
        {
            "name": "sda",
            "path": "/dev/sda",
            "type": "disk",
            "size": 4000787030016,
            "model": "WDC WD40EFRX-68N32N0",
            "serial": "WD-WCC7K4HJ1234",
            "wwn": "0x50014ee2b5d0e1a5",
            "tran": "sata",
            "rota": True,
            "rm": False,
            "fstype": None,
            "mountpoints": [None],
            "children": [
                {
                    "name": "sda1",
                    "path": "/dev/sda1",
                    "type": "part",
                    "size": 4000785104896,
                    "fstype": "ext4",
                    "label": "Data",
                    "uuid": "1b0e7c3e-4d27-4a41-9a43-7d1e6b5a1c11",
                    "mountpoints": ["/media/Data"],
                    "fsused": 1000,
                    "fsavail": 2000,
                    "pkname": "sda",
                }
            ],
        }
    ]
}


def test_it_parses_lsblk_with_partitions():
    (sda,) = block.parse_lsblk(json.dumps(LSBLK))
    assert (sda.wwn, sda.transport, sda.rotational, sda.removable) == ("0x50014ee2b5d0e1a5", "sata", True, False)
    (sda1,) = sda.children
    assert (sda1.fstype, sda1.label, sda1.mountpoints, sda1.fsavail) == ("ext4", "Data", ("/media/Data",), 2000)


def test_it_fills_what_lsblk_missed_from_blkid():
    raw = json.loads(json.dumps(LSBLK))
    raw["blockdevices"][0]["children"][0].update(fstype=None, uuid=None, label=None)
    probed = block.parse_blkid("DEVNAME=/dev/sda1\nUUID=abcd\nTYPE=xfs\nLABEL=Media\n\nDEVNAME=/dev/sdb\nTYPE=ext4\n")
    (sda,) = block.merge_blkid(block.parse_lsblk(json.dumps(raw)), probed)
    assert (sda.children[0].fstype, sda.children[0].uuid, sda.children[0].label) == ("xfs", "abcd", "Media")


def test_it_flattens_findmnt_trees():
    doc = {
        "filesystems": [
            {
                "target": "/",
                "source": "/dev/vda",
                "fstype": "ext4",
                "options": "rw",
                "children": [{"target": "/srv", "source": "/dev/sdb1[/@data]", "fstype": "btrfs", "options": "rw"}],
            }
        ]
    }
    assert [m.target for m in block.parse_findmnt(json.dumps(doc))] == ["/", "/srv"]


def test_it_refuses_output_that_is_not_the_documented_json():
    with pytest.raises(ParseError):
        block.parse_lsblk("lsblk: unknown column")


# ---------------------------------------------------------------------------- argv: `--` before every value
def test_mount_argv_ends_options_before_the_paths(monkeypatch):
    monkeypatch.setattr(mount, "kernel_filesystems", lambda: {"ext4", "exfat", "vfat"})
    assert mount.mount_argv(source="/dev/sdb1", target="/media/Data", fstype="ext4") == [
        "mount",
        "-t",
        "ext4",
        "-o",
        "rw,nosuid,nodev,noatime",
        "--",
        "/dev/sdb1",
        "/media/Data",
    ]
    assert mount.mount_argv(source="/dev/sdb1", target="/media/W", fstype="ntfs")[:3] == ["mount", "-t", "ntfs-3g"]


def test_mount_falls_back_to_fuse_helpers_when_the_kernel_lacks_a_driver(monkeypatch):
    monkeypatch.setattr(mount, "kernel_filesystems", lambda: {"ext4"})
    assert mount.mount_argv(source="/dev/sdb1", target="/media/X", fstype="exfat")[:3] == ["mount", "-t", "exfat-fuse"]
    assert mount.mount_argv(source="/dev/sdb1", target="/media/X", fstype="vfat")[0] == "fusefat"


def test_mount_refuses_what_it_does_not_know():
    with pytest.raises(HostError):
        mount.mount_argv(source="/dev/sdb1", target="/media/X", fstype="squashfs")


def test_programs_that_ignore_dashdash_get_absolute_paths_only(monkeypatch):
    monkeypatch.setattr(mount, "kernel_filesystems", lambda: set())
    with pytest.raises(HostError):
        mount.mount_argv(source="-oallow_other", target="/media/X", fstype="vfat")
    with pytest.raises(HostError):
        format.mkfs_argv(fstype="ntfs", device="--help", label="X")


def test_mkfs_and_parted_argv_put_the_device_after_dashdash():
    assert format.mkfs_argv(fstype="ext4", device="/dev/sdb1", label="Data")[-2:] == ["--", "/dev/sdb1"]
    argv = format.partition_argv("/dev/sdb")
    assert argv[argv.index("--") + 1] == "/dev/sdb" and "mklabel" in argv


@pytest.mark.parametrize("label", ["", "-rf", "a b", "x" * 12, "$(reboot)", "../etc"])
def test_it_refuses_labels_that_are_not_plain_names(label):
    with pytest.raises(HostError):
        format.mkfs_argv(fstype="ext4", device="/dev/sdb1", label=label)


def test_partition_names_follow_the_kernels_rule():
    assert format.partition_path("/dev/sdb") == "/dev/sdb1"
    assert format.partition_path("/dev/nvme0n1") == "/dev/nvme0n1p1"
    assert format.partition_path("/dev/loop3") == "/dev/loop3p1"


def test_mergerfs_argv_and_its_refusals():
    argv = mergerfs.mount_argv(members=["/media/a", "/media/b"], target="/media/pool", policy="mfs", name="pool")
    assert argv[-2:] == ["/media/a:/media/b", "/media/pool"] and "category.create=mfs" in argv[2]
    with pytest.raises(HostError):
        mergerfs.mount_argv(members=["-oallow_other"], target="/media/p", policy="mfs", name="p")
    with pytest.raises(HostError):
        mergerfs.mount_argv(members=["/media/a:/etc"], target="/media/p", policy="mfs", name="p")
    with pytest.raises(HostError):
        mergerfs.mount_argv(members=["/media/a"], target="/media/p", policy="rand,allow_other", name="p")


def test_a_mount_that_did_not_happen_is_an_error_not_a_bare_folder(tmp_path):
    # fusefat can exit 0 without mounting: writing into the folder then would fill the system disk.
    with pytest.raises(HostError, match="not mounted"):
        mount.wait_mounted(str(tmp_path), seconds=0.1)
    mount.wait_mounted("/", seconds=0)
