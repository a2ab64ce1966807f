"""What the Storage page shows: a card per disk, the pools and the mounts a pool can take, read in one place."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .formatting import FORMAT_FILESYSTEMS
from .inventory import inventory_current
from .models import Disk, DiskJob, Mount, Partition, Pool
from .safety import confirmation_text
from .usage import Usage, filesystem_usage

ACTIVE_JOBS = (DiskJob.Status.QUEUED, DiskJob.Status.RUNNING)
# mergerfs create policies, in the words the page offers them (storage/host/mergerfs.py checks the names).
POLICIES = {
    "epmfs": _("Existing path first, then most free space"),
    "mfs": _("Most free space"),
    "lfs": _("Least free space"),
    "ff": _("First found"),
}


@dataclass
class PartitionRow:
    part: Partition
    mount: Mount | None
    usage: Usage | None

    @property
    def pool(self) -> Pool | None:
        """The pool this mount is a member of: it is unmounted only after it leaves the pool."""
        return self.mount.pools.first() if self.mount else None


@dataclass
class DiskCard:
    disk: Disk
    rows: list[PartitionRow]
    health: object  # the latest HealthSample, or None before the first reading
    job: DiskJob | None  # the running format, else the latest one
    confirmation: str

    @property
    def mounted(self) -> list[PartitionRow]:
        return [row for row in self.rows if row.part.mountpoint]

    @property
    def may_format(self) -> bool:
        busy = self.job is not None and self.job.status in ACTIVE_JOBS
        return not (self.disk.is_system or self.disk.member_of_id or self.mounted or busy)

    @property
    def may_eject(self) -> bool:
        return not self.disk.is_system and self.disk.kind == Disk.Kind.DISK


@dataclass
class PoolCard:
    pool: Pool
    members: list[Mount]
    usage: Usage | None

    @property
    def missing(self) -> list[Mount]:
        """Members whose disk is not mounted now (missing at start, lost, failed): the pool runs without them."""
        return [m for m in self.members if m.state != Mount.State.MOUNTED]


def _row(part: Partition, mounts: dict[str, Mount]) -> PartitionRow:
    mount = mounts.get(part.mountpoint) if part.mountpoint else None
    return PartitionRow(part, mount, filesystem_usage(part.mountpoint) if part.mountpoint else None)


def _card(disk: Disk, mounts: dict[str, Mount]) -> DiskCard:
    rows = [_row(part, mounts) for part in disk.partitions.all()]
    job = disk.jobs.filter(status__in=ACTIVE_JOBS).first() or disk.jobs.first()
    return DiskCard(disk, rows, disk.health_samples.first(), job, confirmation_text(disk))


def disk_cards(*, refresh: bool = True) -> list[DiskCard]:
    """The attached disks and arrays (array members inside their array), as the stored inventory has them."""
    if refresh:
        inventory_current()
    mounts = {m.target: m for m in Mount.objects.all()}
    disks = Disk.objects.filter(present=True, member_of__isnull=True).prefetch_related("partitions")
    return [_card(disk, mounts) for disk in disks]


def _is_up(pool: Pool) -> bool:
    # A lost pool's folder is an empty one on the system disk: its figures would be the system disk's.
    return pool.state in (Pool.State.MOUNTED, Pool.State.DEGRADED)


def pool_cards() -> list[PoolCard]:
    return [
        PoolCard(pool, list(pool.members.all()), filesystem_usage(pool.target) if _is_up(pool) else None)
        for pool in Pool.objects.prefetch_related("members")
    ]


def poolable_mounts() -> list[Mount]:
    """Mounts of our table that are mounted now: what a pool can be made of."""
    return list(Mount.objects.filter(state=Mount.State.MOUNTED))


def storage_page() -> dict:
    """Everything the page and its live fragment render."""
    return {
        "cards": disk_cards(),
        "pools": pool_cards(),
        "poolable": poolable_mounts(),
        "filesystems": FORMAT_FILESYSTEMS,
        "policies": POLICIES,
    }
