"""API shapes of Settings → System and the Logs page."""

from django.conf import settings
from rest_framework import serializers

from .logs import LEVELS, PROCESSES


class SystemSettingsPatchSerializer(serializers.Serializer):
    """The settings a PATCH may change; each is checked again by the service (RFC 1123, known zone, free port...)."""

    hostname = serializers.CharField(max_length=253, required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, allow_blank=True, required=False)
    web_bind = serializers.CharField(max_length=64, required=False)
    automount = serializers.BooleanField(required=False)


class SystemSettingsSerializer(SystemSettingsPatchSerializer):
    """What GET answers: the settings in force, what is pending, the version, hardware and release check."""

    host_time_zone = serializers.CharField()
    web_bind_running = serializers.CharField()
    web_bind_pending = serializers.BooleanField()
    version = serializers.CharField()
    hardware = serializers.DictField()
    release = serializers.DictField()


class PowerSerializer(serializers.Serializer):
    """Restart or shut down: the box's host name, typed."""

    confirm = serializers.CharField(max_length=253, allow_blank=True, required=False, default="")


class LogQuerySerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=LEVELS, allow_blank=True, required=False, default="")
    q = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    process = serializers.ChoiceField(choices=PROCESSES, allow_blank=True, required=False, default="")
    after = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    limit = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=200)


class LogEntrySerializer(serializers.Serializer):
    ts = serializers.CharField()
    level = serializers.CharField()
    process = serializers.CharField()
    logger = serializers.CharField()
    message = serializers.CharField()
    exc = serializers.CharField(required=False)
