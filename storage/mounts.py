"""Mount and unmount existing filesystems under the media root, eject disks, and re-apply our mount table at start."""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

from django.conf import settings

from accounts.services.audit import audit_record
from casaos_site.i18n import deferred

from .host import mount as host_mount
from .host.errors import Busy, HostError
from .inventory import inventory_refresh
from .models import Disk, Mount, Partition, Pool
from .safety import (
    StorageRefused,
    check_not_pooled,
    check_not_system,
    check_present,
    refuse_raw_path,
)

log = logging.getLogger(__name__)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9 ._-]+")


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT_DISKS)


def _taken(name: str) -> bool:
    target = media_root() / name
    busy_folder = target.exists() and (host_mount.is_mounted(str(target)) or any(target.iterdir()))
    if busy_folder or Mount.objects.filter(name=name).exists() or Pool.objects.filter(name=name).exists():
        return True
    from remotes.models import Remote  # a remote is a root "@name" too: one name, one root

    return Remote.objects.filter(name=name).exists()


def folder_name(wanted: str) -> str:
    """A folder name of our own from a label (names are never paths): "Data", then "Data-2" when it is taken."""
    base = _UNSAFE_NAME.sub("", wanted).strip(" .")[:48] or "disk"
    name, n = base, 1
    while _taken(name):
        n += 1
        name = f"{base}-{n}"
    return name


def holders_details(exc: Busy) -> dict:
    return {"holders": [{"pid": h.pid, "command": h.command, "path": h.path} for h in exc.holders]}


def busy_refusal(what: str, exc: Busy) -> StorageRefused:
    names = ", ".join(sorted({f"{h.command} ({h.pid})" for h in exc.holders}))
    message = (
        deferred("%(what)s is in use by %(names)s: close it there first.", what=what, names=names)
        if names
        else deferred("%(what)s is in use by a process: close it there first.", what=what)
    )
    return StorageRefused(message, code="busy", details=holders_details(exc))


def partition_by_uuid(fs_uuid: str) -> Partition:
    """A filesystem of the inventory by its UUID (ids only: a path is refused before any lookup)."""
    refuse_raw_path(fs_uuid)
    part = Partition.objects.select_related("disk").filter(uuid=fs_uuid, disk__present=True).first()
    if part is None:
        raise StorageRefused(deferred("No filesystem with this id is attached now."), code="not-found", status=404)
    return part


def _check_mountable(part: Partition) -> None:
    check_present(part.disk)
    if part.disk.is_system:
        raise StorageRefused(
            deferred("%(part)s is on a system disk (%(reason)s).", part=part.name, reason=part.disk.system_reason),
            code="system-disk",
        )
    if part.disk.member_of_id:
        raise StorageRefused(
            deferred("%(part)s belongs to an array: mount the array instead.", part=part.name), code="array-member"
        )
    if part.mountpoint:
        raise StorageRefused(
            deferred("%(part)s is already mounted at %(where)s.", part=part.name, where=part.mountpoint), code="mounted"
        )
    if part.fstype not in host_mount.MOUNTABLE:
        raise StorageRefused(
            deferred(
                "%(part)s holds %(fstype)s; we mount %(known)s.",
                part=part.name,
                fstype=part.fstype or deferred("no filesystem we know"),
                known=", ".join(host_mount.MOUNTABLE),
            ),
            code="fstype",
            status=400,
        )


def partition_mount(part: Partition, *, name: str = "", user=None) -> Mount:
    """Mount a filesystem of the inventory under the media root and record it in our table."""
    _check_mountable(part)
    folder = folder_name(name or part.label or part.uuid[:8])
    target = media_root() / folder
    try:
        host_mount.mount(source=part.path, target=str(target), fstype=part.fstype)
    except HostError as exc:
        _remove_folder(target)
        raise StorageRefused(
            deferred("%(part)s could not be mounted: %(error)s", part=part.name, error=str(exc)),
            code="mount-failed",
            status=422,
        ) from exc
    mount = Mount.objects.create(
        name=folder, target=str(target), fs_uuid=part.uuid, fstype=part.fstype, label=part.label, created_by=user
    )
    inventory_refresh()
    return mount


def mount_create(*, fs_uuid: str, name: str = "", user=None, request=None) -> Mount:
    """Mount an existing filesystem (no formatting), named by its UUID from the inventory."""
    refuse_raw_path(fs_uuid)
    inventory_refresh()
    mount = partition_mount(partition_by_uuid(fs_uuid), name=name, user=user)
    audit_record(
        actor=user,
        action="storage.mount",
        request=request,
        target=mount.target,
        details={"uuid": mount.fs_uuid, "fstype": mount.fstype},
    )
    return mount


def _remove_folder(target: Path) -> None:
    # Only an empty folder we made: a filesystem still mounted there (or files written into it) stays.
    with contextlib.suppress(OSError):
        target.rmdir()


def _disk_of(mount: Mount) -> Disk | None:
    part = Partition.objects.select_related("disk").filter(uuid=mount.fs_uuid, disk__present=True).first()
    return part.disk if part else None


def _unmount(mount: Mount) -> None:
    if host_mount.is_mounted(mount.target):
        try:
            host_mount.unmount(mount.target)
        except Busy as exc:
            raise busy_refusal(mount.target, exc) from exc
        except HostError as exc:
            raise StorageRefused(
                deferred("%(target)s could not be unmounted: %(error)s", target=mount.target, error=str(exc)),
                code="unmount-failed",
            ) from exc
    _remove_folder(Path(mount.target))
    mount.delete()


def mount_remove(*, mount: Mount, user=None, request=None) -> None:
    """Unmount one of our mounts and drop it from our table; a busy filesystem names who holds it."""
    check_not_pooled(mount)
    inventory_refresh()
    disk = _disk_of(mount)
    if disk is not None:
        check_not_system(disk, "unmount")
    target = mount.target
    _unmount(mount)
    inventory_refresh()
    audit_record(actor=user, action="storage.unmount", request=request, target=target)


def _eject_plan(disk: Disk) -> list[Mount]:
    """Our mounts on the disk; a filesystem mounted there by anyone else stops the eject."""
    check_present(disk)
    check_not_system(disk, "eject")
    ours = list(Mount.objects.filter(fs_uuid__in=[p.uuid for p in disk.partitions.all() if p.uuid]))
    targets = {m.target for m in ours}
    foreign = [p for p in disk.partitions.all() if p.mountpoint and p.mountpoint not in targets]
    if foreign:
        where = ", ".join(f"{p.name} → {p.mountpoint}" for p in foreign)
        raise StorageRefused(
            deferred("%(disk)s has a filesystem mounted outside our table (%(where)s).", disk=disk.name, where=where),
            code="mounted",
        )
    for mount in ours:
        check_not_pooled(mount)
    return ours


def disk_eject(*, disk: Disk, user=None, request=None) -> bool:
    """Safe eject: sync, unmount our mounts on it, then power its USB port off when it has one."""
    inventory_refresh()
    disk.refresh_from_db()
    ours = _eject_plan(disk)
    host_mount.sync()
    for mount in ours:
        _unmount(mount)
    powered_off = host_mount.power_off(disk.name)
    inventory_refresh()
    audit_record(
        actor=user, action="storage.eject", request=request, target=disk.stable_id, details={"powered_off": powered_off}
    )
    return powered_off


def _reapply(mount: Mount) -> None:
    if host_mount.is_mounted(mount.target):
        mount.state, mount.last_error = Mount.State.MOUNTED, ""
        return
    part = Partition.objects.select_related("disk").filter(uuid=mount.fs_uuid, disk__present=True).first()
    if part is None:
        mount.state, mount.last_error = Mount.State.MISSING, deferred("the disk is not attached")
        return
    try:
        host_mount.mount(source=part.path, target=mount.target, fstype=mount.fstype)
        mount.state, mount.last_error = Mount.State.MOUNTED, ""
    except HostError as exc:
        mount.state, mount.last_error = Mount.State.FAILED, str(exc)


def reapply_one(mount: Mount) -> Mount:
    """Mount one row of our table again where it was (nofail: the outcome is its state)."""
    _reapply(mount)
    mount.save(update_fields=["state", "last_error"])
    return mount


def mounts_reapply() -> dict[str, str]:
    """Mount our table again after a restart, nofail: a missing or broken disk is recorded and skipped."""
    try:
        inventory_refresh()
    except HostError as exc:
        log.warning("storage: cannot read the disks, mounts not re-applied: %s", exc)
        return {}
    states = {}
    for mount in Mount.objects.all():
        states[mount.name] = reapply_one(mount).state
    inventory_refresh()
    return states
