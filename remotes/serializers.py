"""What the API shows of remotes and sync jobs: never a secret, only the names of those that are set."""

import json

from rest_framework import serializers

from casaos_site.i18n import shown

from .models import Remote, SyncJob, SyncRun


class RemoteSerializer(serializers.ModelSerializer):
    secrets_set = serializers.SerializerMethodField()
    root = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()

    class Meta:
        model = Remote
        fields = ["id", "name", "kind", "options", "secrets_set", "state", "message", "checked_at", "root", "target"]

    def get_secrets_set(self, remote) -> list[str]:
        return sorted(name for name, value in json.loads(remote.secrets or "{}").items() if value)

    def get_message(self, remote) -> str:
        return shown(remote.message)

    def get_root(self, remote) -> str:
        return f"@{remote.name}"


class RemoteWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=48)
    kind = serializers.ChoiceField(choices=Remote.Kind.choices)
    options = serializers.DictField(required=False, default=dict)
    secrets = serializers.DictField(required=False, default=dict)


class RemoteChangeSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=48, required=False)
    options = serializers.DictField(required=False)
    secrets = serializers.DictField(required=False)


class SyncRunSerializer(serializers.ModelSerializer):
    message = serializers.SerializerMethodField()

    def get_message(self, run) -> str:
        return shown(run.message)

    class Meta:
        model = SyncRun
        fields = ["id", "state", "percent", "bytes_done", "bytes_total", "files_done", "message", "started_at",
                  "finished_at"]  # fmt: skip


class SyncJobSerializer(serializers.ModelSerializer):
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = SyncJob
        fields = ["id", "remote", "remote_path", "local_path", "direction", "schedule", "enabled", "last_run"]

    def get_last_run(self, job) -> dict | None:
        run = job.runs.first()
        return SyncRunSerializer(run).data if run else None


class SyncJobWriteSerializer(serializers.Serializer):
    remote = serializers.IntegerField()
    remote_path = serializers.CharField(required=False, allow_blank=True, default="")
    local_path = serializers.CharField()
    direction = serializers.ChoiceField(choices=SyncJob.Direction.choices)
    schedule = serializers.CharField(required=False, allow_blank=True, default="")


class AuthorizeFinishSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=8192)
