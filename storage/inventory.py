"""The inventory: what lsblk, blkid, findmnt and /proc/mdstat say, turned into disks with stable ids and stored."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from casaos_site.events import publish_on_commit

from .host import block, mdstat
from .host.block import BlockDevice, MountEntry
from .host.mdstat import MdArray
from .models import Disk, Partition

INVENTORY_EVENT = "storage.inventory"
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")
_NUMBER = re.compile(r"(\d+)$")
# Weak ids change when the disk is formatted (a new filesystem UUID): the row follows the disk by its device path.
WEAK_IDS = (Disk.IdKind.UUID, Disk.IdKind.DEVICE)


@dataclass
class PartInfo:
    """A filesystem-bearing part of a disk, as found now."""

    number: int
    name: str
    path: str
    size: int
    fstype: str = ""
    label: str = ""
    uuid: str = ""
    partuuid: str = ""
    mountpoint: str = ""
    used: int | None = None
    free: int | None = None


@dataclass
class DiskInfo:
    """A disk or array as found now, with its stable id and why it is a system disk (empty when it is not)."""

    stable_id: str
    id_kind: str
    kind: str
    device: BlockDevice
    partitions: list[PartInfo] = field(default_factory=list)
    system_reason: str = ""
    array: dict = field(default_factory=dict)
    member_of: str = ""  # the stable id of the array this disk belongs to


def clean_id(text: str) -> str:
    return _UNSAFE_ID.sub("_", text.strip()).strip("_")


def stable_id(device: BlockDevice) -> tuple[str, str]:
    """(kind, id): WWN, else serial, else a filesystem UUID on it, else the kernel name (a blank disk)."""
    if device.wwn:
        return Disk.IdKind.WWN, "wwn-" + clean_id(device.wwn)
    if device.serial:
        return Disk.IdKind.SERIAL, "serial-" + clean_id(device.serial)
    uuid = next((d.uuid for d in device.walk() if d.uuid and d.fstype != "linux_raid_member"), "")
    if uuid:
        return Disk.IdKind.UUID, "uuid-" + clean_id(uuid)
    return Disk.IdKind.DEVICE, "dev-" + clean_id(device.name)


def _part(device: BlockDevice, number: int) -> PartInfo:
    return PartInfo(
        number=number,
        name=device.name,
        path=device.path,
        size=device.size,
        fstype=device.fstype,
        label=device.label,
        uuid=device.uuid,
        partuuid=device.partuuid,
        # The shortest of its mount points: the others are binds of folders inside (the engines' overlay on /).
        mountpoint=min(device.mountpoints, key=len) if device.mountpoints else "",
        used=device.fsused,
        free=device.fsavail,
    )


def partitions_of(device: BlockDevice) -> list[PartInfo]:
    """Its partitions, or the whole disk as number 0 when the filesystem sits on it without a table."""
    parts = [c for c in device.children if c.type == "part"]
    if not parts:
        return [_part(device, 0)] if device.fstype and device.fstype != "linux_raid_member" else []
    return [_part(p, int(m[1]) if (m := _NUMBER.search(p.name)) else i + 1) for i, p in enumerate(parts)]


def _listed(device: BlockDevice, include_loop: bool) -> bool:
    if device.size <= 0 or device.name.startswith(("zram", "ram")):
        return False
    return device.type == "disk" or (device.type == "loop" and include_loop)


def _array_node(arr: MdArray, devices: list[BlockDevice]) -> BlockDevice:
    # lsblk shows an array under each of its members; without one (an inactive array), a bare node stands in.
    found = next((d for top in devices for d in top.walk() if d.name == arr.name), None)
    return found or BlockDevice(name=arr.name, path=arr.path, type="raid", size=arr.blocks * 1024)


def _array_info(arr: MdArray, devices: list[BlockDevice]) -> DiskInfo:
    node = _array_node(arr, devices)
    members = [d for top in devices for d in top.walk() if d.name in {m.device for m in arr.members}]
    array_uuid = next((m.uuid for m in members if m.uuid), "")
    summary = {
        "level": arr.level,
        "active": arr.active,
        "degraded": arr.degraded,
        "member_map": arr.member_map,
        "raid_disks": arr.raid_disks,
        "active_disks": arr.active_disks,
        "sync_action": arr.sync_action,
        "sync_percent": arr.sync_percent,
        "members": [{"device": m.device, "index": m.index, "flags": list(m.flags)} for m in arr.members],
    }
    return DiskInfo(
        stable_id="md-" + clean_id(array_uuid or arr.name),
        id_kind=Disk.IdKind.UUID if array_uuid else Disk.IdKind.DEVICE,
        kind=Disk.Kind.ARRAY,
        device=node,
        partitions=partitions_of(node) if node.children else ([_part(node, 0)] if node.fstype else []),
        array=summary,
    )


def _mount_of(path: str, mounts: list[MountEntry]) -> MountEntry | None:
    """The mount that holds path: the longest mount point above it."""
    inside = [m for m in mounts if Path(path).is_relative_to(m.target)]
    return max(inside, key=lambda m: len(m.target), default=None)


def _mark_system(infos: list[DiskInfo], mounts: list[MountEntry], system_paths: dict[str, str]) -> None:
    for path, why in system_paths.items():
        entry = _mount_of(path, mounts)
        source = block.source_device(entry.source) if entry else ""
        for info in infos:
            if source and any(d.path == source for d in info.device.walk()):
                info.system_reason = info.system_reason or f"{why} ({path})"


def _mark_members(infos: list[DiskInfo]) -> None:
    arrays = [i for i in infos if i.kind == Disk.Kind.ARRAY]
    for info in infos:
        for arr in arrays:
            names = {m["device"] for m in arr.array["members"]}
            if info is not arr and any(d.name in names for d in info.device.walk()):
                info.member_of = arr.stable_id
                # A member of a system array is as much a system disk as the array.
                info.system_reason = info.system_reason or (arr.system_reason and f"member of {arr.device.name}")


def inventory_build(
    *,
    devices: list[BlockDevice],
    mounts: list[MountEntry],
    arrays: list[MdArray],
    system_paths: dict[str, str],
    include_loop: bool = False,
) -> list[DiskInfo]:
    """Disks and arrays with stable ids, partitions and system marks, from the host's own listings."""
    infos = []
    for device in block.merge_mounts(devices, mounts):
        if _listed(device, include_loop):
            kind, sid = stable_id(device)
            infos.append(
                DiskInfo(
                    stable_id=sid, id_kind=kind, kind=Disk.Kind.DISK, device=device, partitions=partitions_of(device)
                )
            )
    infos += [_array_info(arr, devices) for arr in arrays]
    _mark_system(infos, mounts, system_paths)
    _mark_members(infos)
    return infos


def system_paths() -> dict[str, str]:
    """The paths whose disks are system disks, each with the reason shown when an action is refused."""
    paths = {"/": "the system", str(settings.DATA_DIR): "our data folder"}
    for path in settings.STORAGE_SYSTEM_PATHS:
        paths.setdefault(str(path), "the container engine's data")
    return paths


# ---------------------------------------------------------------------------- persisting


def _match(info: DiskInfo) -> Disk:
    disk = Disk.objects.filter(stable_id=info.stable_id).first()
    if disk is None and info.id_kind in WEAK_IDS:
        disk = Disk.objects.filter(path=info.device.path, id_kind__in=WEAK_IDS, present=True).first()
    return disk or Disk(stable_id=info.stable_id)


def _store_disk(info: DiskInfo, now) -> Disk:
    device = info.device
    disk = _match(info)
    for name, value in {
        "stable_id": info.stable_id,
        "id_kind": info.id_kind,
        "kind": info.kind,
        "name": device.name,
        "path": device.path,
        "model": device.model,
        "serial": device.serial,
        "wwn": device.wwn,
        "size": device.size,
        "transport": device.transport,
        "rotational": device.rotational,
        "removable": device.removable or device.hotplug,
        "is_system": bool(info.system_reason),
        "system_reason": info.system_reason,
        "array": info.array,
        "present": True,
        "last_seen": now,
    }.items():
        setattr(disk, name, value)
    disk.save()
    return disk


def _store_partitions(disk: Disk, parts: list[PartInfo]) -> None:
    disk.partitions.exclude(number__in=[p.number for p in parts]).delete()
    for part in parts:
        values = {k: v for k, v in part.__dict__.items() if k != "number"}
        Partition.objects.update_or_create(disk=disk, number=part.number, defaults=values)


def _shape() -> set[tuple]:
    """What the pages draw of the attached disks, but the space figures (those change with every write)."""
    disks = Disk.objects.filter(present=True).values_list("stable_id", "name", "is_system", "member_of", "array")
    parts = Partition.objects.filter(disk__present=True).values_list(
        "disk__stable_id", "number", "fstype", "label", "uuid", "mountpoint"
    )
    return {("disk", *map(str, d)) for d in disks} | {("part", *p) for p in parts}


@transaction.atomic
def inventory_store(infos: list[DiskInfo]) -> list[Disk]:
    """Write what was found: rows updated in place, disks not found now kept as absent (their history stays)."""
    before = _shape()
    now = timezone.now()
    stored = {}
    for info in infos:
        disk = _store_disk(info, now)
        _store_partitions(disk, info.partitions)
        stored[info.stable_id] = disk
    for info in infos:
        Disk.objects.filter(pk=stored[info.stable_id].pk).update(member_of=stored.get(info.member_of))
    gone = Disk.objects.filter(present=True).exclude(pk__in=[d.pk for d in stored.values()])
    Partition.objects.filter(disk__in=gone).update(mountpoint="", used=None, free=None)
    gone.update(present=False)
    # Only a change: every open page redraws on this event, and redrawing reads the inventory again.
    if _shape() != before:
        publish_on_commit(settings.STORAGE_GROUP, INVENTORY_EVENT, {"disks": len(stored)})
    return list(stored.values())


def inventory_refresh() -> list[Disk]:
    """Read the host now and store it: the one way the inventory changes."""
    infos = inventory_build(
        devices=block.list_devices(),
        mounts=block.list_mounts(),
        arrays=mdstat.read_arrays(),
        system_paths=system_paths(),
        include_loop=settings.STORAGE_LOOP_DEVICES,
    )
    return inventory_store(infos)


def inventory_read_at():
    """When the host was last read: every read stamps the disks it found (None before the first read)."""
    return Disk.objects.filter(present=True).aggregate(newest=Max("last_seen"))["newest"]


def inventory_current() -> None:
    """Read the host only when the stored read is older than CASAOS_STORAGE_INVENTORY_MAX_AGE.

    Hotplug and every action read it as they happen, so pages and the API show the stored rows: a page view must
    not cost lsblk, blkid and findmnt. The age bounds what nobody announced (a mount made by hand in a shell).
    """
    read_at = inventory_read_at()
    if read_at is None or timezone.now() - read_at > timedelta(seconds=settings.STORAGE_INVENTORY_MAX_AGE):
        inventory_refresh()
