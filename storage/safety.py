"""The refusals of "Safety first": each one a StorageRefused with the reason and the HTTP status it maps to."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from accounts.permissions import request_stepped_up
from casaos_site.i18n import deferred, shown

from .models import Disk, DiskJob, Mount


class StorageRefused(Exception):
    """A storage action we will not do, and why; `code` names the rule, `status` is its 4xx."""

    def __init__(self, message: str, *, code: str, status: int = 409, details: dict | None = None) -> None:
        self.stored = message  # a deferred() id and parameters: what a task records, shown in each reader's words
        self.message = shown(message)  # in the language active now (a request's)
        super().__init__(self.message)
        self.code = code
        self.status = status
        self.details = details or {}


# One whole sentence per action: translations need the verb inside the sentence, not pasted in.
SYSTEM_DISK_REFUSALS = {
    "format": gettext_noop("%(disk)s is a system disk (it holds %(reason)s): it can never be formatted."),
    "partition": gettext_noop("%(disk)s is a system disk (it holds %(reason)s): it can never be partitioned."),
    "unmount": gettext_noop("%(disk)s is a system disk (it holds %(reason)s): it can never be unmounted."),
    "eject": gettext_noop("%(disk)s is a system disk (it holds %(reason)s): it can never be ejected."),
}


def refuse_raw_path(value: str) -> None:
    """A client names disks and filesystems by our ids only: anything that looks like a path is refused."""
    if "/" in str(value) or str(value).startswith("."):
        raise StorageRefused(
            deferred("Name a disk or filesystem by its id from the inventory, never by a device path."),
            code="raw-path",
            status=400,
        )


def check_not_system(disk: Disk, action: str) -> None:
    if disk.is_system:
        raise StorageRefused(
            deferred(SYSTEM_DISK_REFUSALS[action], disk=disk.name, reason=disk.system_reason),
            code="system-disk",
        )


def check_present(disk: Disk) -> None:
    if not disk.present:
        raise StorageRefused(deferred("%(disk)s is not attached now.", disk=str(disk)), code="absent")


def check_nothing_mounted(disk: Disk) -> None:
    mounted = [p for p in disk.partitions.all() if p.mountpoint]
    if mounted:
        where = ", ".join(f"{p.name} → {p.mountpoint}" for p in mounted)
        raise StorageRefused(
            deferred("%(disk)s has a mounted filesystem (%(where)s): unmount it first.", disk=disk.name, where=where),
            code="mounted",
        )


def check_not_member(disk: Disk) -> None:
    if disk.member_of_id:
        raise StorageRefused(
            deferred("%(disk)s is a member of the array %(array)s.", disk=disk.name, array=disk.member_of.name),
            code="array-member",
        )


def check_no_running_job(disk: Disk) -> None:
    if disk.jobs.filter(status__in=[DiskJob.Status.QUEUED, DiskJob.Status.RUNNING]).exists():
        raise StorageRefused(deferred("%(disk)s is already being formatted.", disk=disk.name), code="job-running")


def check_may_format(disk: Disk) -> None:
    """Every rule a format (or partitioning) must pass, checked again by the task right before it writes."""
    check_present(disk)
    check_not_system(disk, "format")
    check_not_member(disk)
    check_nothing_mounted(disk)


def confirmation_text(disk: Disk) -> str:
    """What the admin types to confirm a format: the disk's model and serial (its name when it has neither)."""
    return " ".join(part for part in (disk.model, disk.serial) if part) or disk.name


def check_confirmation(disk: Disk, typed: str) -> None:
    if " ".join(str(typed).split()) != confirmation_text(disk):
        raise StorageRefused(
            deferred("Type the disk's model and serial exactly (“%(text)s”) to confirm.", text=confirmation_text(disk)),
            code="confirmation",
            status=400,
        )


def check_stepped_up(request) -> None:
    if request is None or not request_stepped_up(request):
        raise StorageRefused(
            deferred("Formatting erases the disk: confirm your password again (step-up) first."),
            code="stepup",
            status=403,
        )


def check_not_pooled(mount: Mount) -> None:
    pools = list(mount.pools.values_list("name", flat=True))
    if pools:
        raise StorageRefused(
            deferred(
                "%(mount)s is a member of the pool %(pools)s: remove it from the pool first.",
                mount=mount.name,
                pools=", ".join(pools),
            ),
            code="pooled",
        )
