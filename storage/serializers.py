"""Shapes of the storage API: disks with partitions, health samples, mounts, pools and disk jobs."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from casaos_site.i18n import ShownField

from .formatting import FORMAT_FILESYSTEMS
from .host.mergerfs import POLICIES
from .models import Disk, DiskJob, HealthSample, Mount, Partition, Pool, StorageSettings
from .safety import confirmation_text


class PartitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Partition
        fields = ["number", "name", "size", "fstype", "label", "uuid", "mountpoint", "used", "free"]


class DiskJobSerializer(serializers.ModelSerializer):
    step = ShownField(read_only=True, help_text=_("what the job is doing now, in your language"))
    error = ShownField(read_only=True, help_text=_("why the job failed, in your language"))

    disk = serializers.CharField(source="disk.stable_id")

    class Meta:
        model = DiskJob
        fields = [
            "id",
            "disk",
            "operation",
            "fstype",
            "label",
            "status",
            "progress",
            "step",
            "error",
            "mount",
            "created_at",
            "finished_at",
        ]


class DiskSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="stable_id")
    partitions = PartitionSerializer(many=True)
    member_of = serializers.SlugRelatedField(slug_field="stable_id", read_only=True)
    confirmation = serializers.SerializerMethodField(help_text=_("What to type to confirm a format."))

    class Meta:
        model = Disk
        fields = [
            "id",
            "id_kind",
            "kind",
            "name",
            "model",
            "serial",
            "wwn",
            "size",
            "transport",
            "rotational",
            "removable",
            "is_system",
            "system_reason",
            "member_of",
            "array",
            "health",
            "temperature",
            "present",
            "last_seen",
            "partitions",
            "confirmation",
        ]

    def get_confirmation(self, disk) -> str:
        return confirmation_text(disk)


class DiskDetailSerializer(DiskSerializer):
    jobs = serializers.SerializerMethodField()

    class Meta(DiskSerializer.Meta):
        fields = [*DiskSerializer.Meta.fields, "jobs"]

    def get_jobs(self, disk) -> list:
        return DiskJobSerializer(disk.jobs.all()[:5], many=True).data


class HealthSampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = HealthSample
        fields = [
            "at",
            "health",
            "available",
            "passed",
            "temperature",
            "power_on_hours",
            "reallocated",
            "pending",
            "uncorrectable",
            "critical_warning",
            "percentage_used",
            "message",
        ]


class FormatSerializer(serializers.Serializer):
    fstype = serializers.ChoiceField(choices=FORMAT_FILESYSTEMS, default="ext4")
    label = serializers.CharField(max_length=32)
    confirm = serializers.CharField(
        max_length=400, help_text=_("The disk's model and serial, typed (see confirmation).")
    )


class MountSerializer(serializers.ModelSerializer):
    pools = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    last_error = ShownField(read_only=True, help_text=_("why it is not mounted, in your language"))

    class Meta:
        model = Mount
        fields = [
            "id",
            "name",
            "target",
            "fs_uuid",
            "fstype",
            "label",
            "state",
            "last_error",
            "full_warned",
            "pools",
            "created_at",
        ]


class MountCreateSerializer(serializers.Serializer):
    uuid = serializers.CharField(max_length=64, help_text=_("The filesystem's UUID, as the disk listing gives it."))
    name = serializers.CharField(max_length=48, required=False, default="", allow_blank=True)


class PoolSerializer(serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    missing = serializers.SerializerMethodField(help_text="Member mount ids whose disk is not mounted now.")
    last_error = ShownField(read_only=True, help_text=_("why it is not mounted, in your language"))

    class Meta:
        model = Pool
        fields = [
            "id",
            "name",
            "target",
            "policy",
            "members",
            "missing",
            "state",
            "last_error",
            "full_warned",
            "created_at",
        ]

    def get_missing(self, pool: Pool) -> list[int]:
        return [m.pk for m in pool.members.all() if m.state != Mount.State.MOUNTED]


class PoolCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=32)
    members = serializers.ListField(
        child=serializers.IntegerField(), max_length=32, help_text=_("Mount ids, in order.")
    )
    policy = serializers.ChoiceField(choices=list(POLICIES), default="epmfs")


class PoolChangeSerializer(serializers.Serializer):
    members = serializers.ListField(child=serializers.IntegerField(), max_length=32, required=False)
    policy = serializers.ChoiceField(choices=list(POLICIES), required=False)


class StorageSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = StorageSettings
        fields = ["automount", "full_threshold"]
        extra_kwargs = {"automount": {"required": False}, "full_threshold": {"required": False}}
