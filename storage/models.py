"""Storage inventory: disks, their partitions, our own mount table, pools, health history and disk jobs."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StorageSettings(models.Model):
    """The one row of admin settings for storage (pk=1)."""

    automount = models.BooleanField(
        _("automount"), default=False, help_text=_("Mount a disk's filesystems as soon as it is plugged in.")
    )
    full_threshold = models.PositiveSmallIntegerField(
        _("disk full warning (%)"),
        default=90,
        validators=[MinValueValidator(50), MaxValueValidator(99)],
        help_text=_("Warn once when a mounted disk or pool fills above this share."),
    )

    class Meta:
        verbose_name = _("storage settings")
        verbose_name_plural = _("storage settings")

    def __str__(self) -> str:
        return str(_("Storage settings"))

    @classmethod
    def load(cls) -> "StorageSettings":
        """The settings row, created on first use."""
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class Disk(models.Model):
    """A disk or md array, known by a stable id (WWN, else serial, else filesystem UUID) across re-plugging."""

    class IdKind(models.TextChoices):
        WWN = "wwn"
        SERIAL = "serial"
        UUID = "uuid"
        DEVICE = "device"  # nothing stable to go by (a blank loop device): the kernel's name, until it has a UUID

    class Kind(models.TextChoices):
        DISK = "disk"
        ARRAY = "array"  # an md (software RAID) array: shown instead of its members

    stable_id = models.CharField(max_length=200, unique=True)
    id_kind = models.CharField(max_length=8, choices=IdKind.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.DISK)
    # Where the kernel has it now: filled by the inventory only, never taken from a client.
    name = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=255, blank=True)
    model = models.CharField(max_length=200, blank=True)
    serial = models.CharField(max_length=200, blank=True)
    wwn = models.CharField(max_length=200, blank=True)
    size = models.BigIntegerField(default=0)
    transport = models.CharField(max_length=16, blank=True)
    rotational = models.BooleanField(default=False)
    removable = models.BooleanField(default=False)
    is_system = models.BooleanField(default=False)
    system_reason = models.CharField(max_length=255, blank=True)
    member_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    array = models.JSONField(default=dict, blank=True)  # level, member map, degraded, sync: arrays only
    health = models.CharField(max_length=16, blank=True)  # the latest HealthSample's word, for lists
    temperature = models.IntegerField(null=True, blank=True)
    present = models.BooleanField(default=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_system", "name"]

    def __str__(self) -> str:
        return f"{self.model or self.name} ({self.stable_id})"


class Partition(models.Model):
    """A filesystem-bearing part of a disk; number 0 is a filesystem on the whole disk (no partition table)."""

    disk = models.ForeignKey(Disk, on_delete=models.CASCADE, related_name="partitions")
    number = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(default=0)
    fstype = models.CharField(max_length=32, blank=True)
    label = models.CharField(max_length=255, blank=True)
    uuid = models.CharField(max_length=64, blank=True, db_index=True)
    partuuid = models.CharField(max_length=64, blank=True)
    mountpoint = models.CharField(max_length=4096, blank=True)
    used = models.BigIntegerField(null=True, blank=True)
    free = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["disk", "number"]
        constraints = [models.UniqueConstraint(fields=["disk", "number"], name="storage_partition_number")]

    def __str__(self) -> str:
        return self.label or self.name


class Mount(models.Model):
    """Our own mount table (never /etc/fstab): what we mounted and where, re-applied at start with nofail."""

    class State(models.TextChoices):
        MOUNTED = "mounted"
        MISSING = "missing"  # its disk is not attached: skipped at start, mounted again when it returns
        FAILED = "failed"
        LOST = "lost"  # its disk went away while mounted, without an eject: reported, mounted again when it returns

    name = models.CharField(max_length=64, unique=True)  # the folder under CASAOS_MEDIA_ROOT
    target = models.CharField(max_length=4096, unique=True)
    fs_uuid = models.CharField(max_length=64)  # how the filesystem is found again, whatever its device name
    fstype = models.CharField(max_length=32)
    label = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.MOUNTED)
    last_error = models.TextField(blank=True)
    full_warned = models.BooleanField(default=False)  # above the fill threshold and announced: once per crossing
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.target


class Pool(models.Model):
    """Several mounted disks merged into one mergerfs mount, with a create policy."""

    class State(models.TextChoices):
        MOUNTED = "mounted"
        DEGRADED = "degraded"  # a member's disk is gone: mounted over the others, whole again when it returns
        LOST = "lost"  # every member's disk is gone: not mounted until one returns
        FAILED = "failed"

    name = models.CharField(max_length=64, unique=True)
    target = models.CharField(max_length=4096, unique=True)
    policy = models.CharField(max_length=16, default="epmfs")
    members = models.ManyToManyField(Mount, related_name="pools")
    state = models.CharField(max_length=16, choices=State.choices, default=State.MOUNTED)
    last_error = models.TextField(blank=True)
    full_warned = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class HealthSample(models.Model):
    """One SMART reading of a disk: the history that shows a disk getting worse."""

    disk = models.ForeignKey(Disk, on_delete=models.CASCADE, related_name="health_samples")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    health = models.CharField(max_length=16)
    available = models.BooleanField(default=True)
    passed = models.BooleanField(null=True)
    temperature = models.IntegerField(null=True)
    power_on_hours = models.IntegerField(null=True)
    reallocated = models.BigIntegerField(null=True)
    pending = models.BigIntegerField(null=True)
    uncorrectable = models.BigIntegerField(null=True)
    critical_warning = models.IntegerField(null=True)
    percentage_used = models.IntegerField(null=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.disk_id} {self.health} at {self.at:%Y-%m-%d %H:%M}"


class DiskJob(models.Model):
    """A long disk operation (format): the database holds its state and progress; the socket only pushes changes."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    disk = models.ForeignKey(Disk, on_delete=models.CASCADE, related_name="jobs")
    operation = models.CharField(max_length=16, default="format")
    fstype = models.CharField(max_length=16)
    label = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    mount = models.ForeignKey(Mount, null=True, blank=True, on_delete=models.SET_NULL)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.operation} {self.disk_id} ({self.status})"
