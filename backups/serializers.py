"""API shapes of the backups app. No serializer has the repository password or the target secret as output."""

from rest_framework import serializers

from .models import BackupJob, JobRun, Repository, Snapshot
from .services.schedule import cron_parse


class RepositorySerializer(serializers.ModelSerializer):
    """A repository as listed: never its password or secret. `remote`: the id of the remote it is kept on (rclone),
    `location` then the folder inside it."""

    remote_name = serializers.CharField(source="remote.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Repository
        fields = ["id", "name", "kind", "remote", "remote_name", "location", "username", "port", "check_schedule"]
        fields += ["last_check_at", "last_error", "size", "created_at", "for_updates"]
        read_only_fields = ["remote", "last_check_at", "last_error", "size", "created_at", "for_updates"]


class ForUpdatesSerializer(serializers.Serializer):
    for_updates = serializers.BooleanField(help_text="Take the snapshots before app updates to this repository.")


class RepositoryCreateSerializer(serializers.Serializer):
    """What connecting a target takes; `password` only to connect an existing repository (then never shown)."""

    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=Repository.Kind.choices)
    remote = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="rclone: the id of a remote of /api/remotes/.",
    )
    location = serializers.CharField(
        max_length=500, help_text="A folder, host:/path (sftp), an address (s3, rest), a folder in the remote (rclone)."
    )
    username = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    port = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=65535, default=None)
    secret = serializers.CharField(required=False, allow_blank=True, default="", write_only=True, trim_whitespace=False)
    password = serializers.CharField(required=False, allow_blank=True, default="", write_only=True)


def _cron(value: str) -> str:
    if value:
        cron_parse(value)
    return value


class JobSerializer(serializers.ModelSerializer):
    """A backup job: what, where, when, what is kept."""

    last_run = serializers.SerializerMethodField()

    class Meta:
        model = BackupJob
        fields = ["id", "name", "repository", "include_system", "apps", "folders", "schedule", "keep_last"]
        fields += ["keep_daily", "keep_weekly", "keep_monthly", "enabled", "last_run"]

    def validate_schedule(self, value: str) -> str:
        from django.core.exceptions import ValidationError

        try:
            return _cron(value.strip())
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate_apps(self, value):
        from apps.models import Installation

        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise serializers.ValidationError("A list of app names.")
        missing = set(value) - set(Installation.objects.filter(name__in=value).values_list("name", flat=True))
        if missing:
            raise serializers.ValidationError(f"Not installed: {', '.join(sorted(missing))}.")
        return value

    def validate_folders(self, value):
        from files.paths import PathError, resolve

        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise serializers.ValidationError("A list of folders of the file manager.")
        for path in value:
            try:
                if not resolve(self.context["request"].user, path).is_dir():
                    raise serializers.ValidationError(f"{path} is not a folder.")
            except PathError as exc:
                raise serializers.ValidationError(f"{path}: {exc.message}") from None
        return value

    def get_last_run(self, job) -> dict | None:
        run = job.runs.first()
        return RunSerializer(run).data if run else None


class RunSerializer(serializers.ModelSerializer):
    """A run's state and result."""

    duration = serializers.FloatField(read_only=True)

    class Meta:
        model = JobRun
        fields = ["id", "kind", "job", "repository", "status", "step", "progress", "size", "total_bytes", "files"]
        fields += ["downtime", "snapshots", "error", "created_at", "started_at", "finished_at", "duration", "details"]


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Snapshot
        fields = ["id", "repository", "short_id", "restic_id", "time", "kind", "subject", "paths", "job", "size"]


class RestoreSerializer(serializers.Serializer):
    """What to restore: for a folder snapshot, paths in it (all by default) and a destination folder of the file
    manager (their own place by default); an app snapshot restores the app with its data to its place, or as a copy
    under `name` (a new app; the original untouched)."""

    paths = serializers.ListField(child=serializers.CharField(max_length=4096), required=False, default=list)
    target = serializers.CharField(required=False, allow_blank=True, default="", max_length=4096)
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=63,
        help_text="An app snapshot: restore it as a copy, a new app of this name with its own containers, volumes, "
        "folder and host ports; the original untouched.",
    )
    as_name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=63, help_text="The same as `name` (older clients)."
    )
    consent = serializers.BooleanField(
        required=False, default=False, help_text="A copy of an app with access to this machine: the same as at install."
    )
    consent_paths = serializers.ListField(
        child=serializers.CharField(max_length=4096), required=False, default=list, max_length=50
    )

    def validate(self, attrs: dict) -> dict:
        name, alias = attrs.pop("name").strip(), attrs.pop("as_name").strip()
        if name and alias and name != alias:
            raise serializers.ValidationError({"name": "name and as_name differ: give one of them"})
        attrs["as_name"] = name or alias
        return attrs
