"""Hotplug: a disk plugged in is listed at once (and mounted when the admin asked for it); one pulled out is noticed,
and a filesystem pulled out without an eject is reported, not forgotten.

The listener is a thread of the worker (casaos_site/background.py), beside beat, the sampler and the engine-events
listener: it spends its life waiting on a netlink socket, and a process of its own would import all of Django again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings

from accounts.services.audit import audit_record
from casaos_site.events import publish
from casaos_site.i18n import deferred

from .host import mount as host_mount
from .host import uevents
from .host.errors import HostError
from .inventory import inventory_refresh
from .models import Disk, Mount, Partition, StorageSettings
from .mounts import partition_mount, reapply_one
from .pools import pools_follow
from .safety import StorageRefused

log = logging.getLogger(__name__)
ADDED_EVENT = "storage.disk.added"
REMOVED_EVENT = "storage.disk.removed"
LOST_EVENT = "storage.mount.lost"  # a filesystem went away while mounted, without an eject
AUTOMOUNT_FAILED_EVENT = "storage.automount.failed"
LOOK_SECONDS = 1.0  # how often the listener looks at its stop flag between uevents


def _present() -> set[str]:
    return set(Disk.objects.filter(present=True).values_list("stable_id", flat=True))


def _announce(event: str, data: dict) -> None:
    publish(settings.STORAGE_GROUP, event, data)


def _disk_data(disk: Disk) -> dict:
    return {"disk": disk.stable_id, "name": disk.name, "model": disk.model, "size": disk.size}


def _attached(mount: Mount) -> bool:
    return Partition.objects.filter(uuid=mount.fs_uuid, disk__present=True).exists()


def _lose(mount: Mount) -> None:
    """Record and announce a mount whose disk left without an eject; its pools let go of it first (they would write
    into the empty folder it leaves), then its dead mount is detached lazily."""
    mount.state, mount.last_error = Mount.State.LOST, deferred("the disk was removed without an eject")
    mount.save(update_fields=["state", "last_error"])
    pools_follow([mount])
    if host_mount.is_mounted(mount.target):
        try:
            host_mount.unmount_lazy(mount.target)
        except HostError as exc:
            log.warning("storage: could not detach %s: %s", mount.target, exc)
    log.warning("storage: %s was removed without an eject", mount.target)
    _announce(LOST_EVENT, {"mount": mount.pk, "name": mount.name, "target": mount.target, "uuid": mount.fs_uuid})
    audit_record(actor=None, action="storage.mount.lost", target=mount.target, details={"uuid": mount.fs_uuid})


def mounts_lost() -> list[Mount]:
    """Our mounted filesystems whose disk is no longer attached."""
    lost = [m for m in Mount.objects.filter(state=Mount.State.MOUNTED) if not _attached(m)]
    for mount in lost:
        _lose(mount)
    return lost


def mounts_returned() -> list[Mount]:
    """Mounts of our table whose disk came back (missing at start, or lost): mounted again where they were."""
    back = [m for m in Mount.objects.filter(state__in=[Mount.State.MISSING, Mount.State.LOST]) if _attached(m)]
    for mount in back:
        reapply_one(mount)
    pools_follow(back)  # their pools take them back
    return back


def _automountable(part: Partition) -> bool:
    return bool(part.uuid) and not part.mountpoint and not Mount.objects.filter(fs_uuid=part.uuid).exists()


def _automount(part: Partition) -> Mount | None:
    try:
        mount = partition_mount(part)
    except (StorageRefused, HostError) as exc:
        message = getattr(exc, "message", str(exc))
        log.warning("storage: automount of %s refused: %s", part.name, message)
        _announce(AUTOMOUNT_FAILED_EVENT, {"partition": part.name, "uuid": part.uuid, "detail": message})
        return None
    audit_record(actor=None, action="storage.automount", target=mount.target, details={"uuid": mount.fs_uuid})
    return mount


def disks_automount(disks: list[Disk]) -> list[Mount]:
    """Mount the new filesystems of newly attached disks (system disks and array members are refused as always)."""
    parts = Partition.objects.filter(disk__in=disks).select_related("disk")
    return [m for part in parts if _automountable(part) and (m := _automount(part))]


def hotplug_changed() -> dict[str, list[str]]:
    """Read the disks again and act on the difference: announce, report lost mounts, remount returned ones,
    automount when the admin turned it on."""
    before = _present()
    inventory_refresh()
    now = _present()
    added = list(Disk.objects.filter(stable_id__in=now - before))
    removed = list(Disk.objects.filter(stable_id__in=before - now))
    lost, returned = mounts_lost(), mounts_returned()
    mounted = disks_automount(added) if added and StorageSettings.load().automount else []
    if lost or returned or mounted:
        inventory_refresh()
    for disk in added:
        _announce(ADDED_EVENT, {**_disk_data(disk), "mounted": [m.target for m in mounted]})
    for disk in removed:
        _announce(REMOVED_EVENT, _disk_data(disk))
    return {
        "added": [d.stable_id for d in added],
        "removed": [d.stable_id for d in removed],
        "lost": [m.target for m in lost],
        "returned": [m.target for m in returned],
        "mounted": [m.target for m in mounted],
    }


def _look(action: Callable = hotplug_changed) -> None:
    """One look at the disks; a host that cannot list them is logged, the listener goes on."""
    try:
        action()
    except HostError as exc:
        log.warning("storage: hotplug could not read the disks: %s", exc)


def _listen(monitor, stop: threading.Event) -> None:
    while not stop.is_set():
        if uevents.wait_for_change(monitor, timeout=LOOK_SECONDS):
            _look()


def _poll(stop: threading.Event) -> None:
    while not stop.wait(settings.STORAGE_HOTPLUG_POLL):
        _look()


def hotplug_listen(*, stop: threading.Event, monitor_factory: Callable = uevents.block_monitor) -> str:
    """Hear block uevents until `stop`; where netlink is unavailable, poll the inventory. Says which it used."""
    # The baseline: what is attached at start is not "plugged in" (and our table is re-applied by storage.reapply).
    _look(inventory_refresh)
    try:
        monitor = monitor_factory()
    except uevents.Unavailable as exc:
        log.warning("storage: %s; polling the disks every %ss instead", exc, settings.STORAGE_HOTPLUG_POLL)
        _poll(stop)
        return "poll"
    _listen(monitor, stop)
    return "netlink"
