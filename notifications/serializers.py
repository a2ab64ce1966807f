"""API shapes of the notification centre."""

from rest_framework import serializers

from casaos_site.i18n import ShownField

from .models import Channel, Notification, SmtpSettings
from .rules import RULES


class NotificationSerializer(serializers.ModelSerializer):
    message = ShownField(help_text="in the caller's language")
    title = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "severity", "title", "message", "link", "created_at", "read_at"]

    def get_title(self, note) -> str:
        spec = RULES.get(note.kind)
        return str(spec.label) if spec else note.kind


class RuleSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=[])
    label = serializers.CharField(read_only=True)
    enabled = serializers.BooleanField(required=False)
    threshold = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=100000)
    threshold_label = serializers.CharField(read_only=True, help_text="empty when the rule has no threshold")
    cooldown_minutes = serializers.IntegerField(required=False, min_value=0, max_value=30 * 24 * 60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .rules import EDITABLE

        self.fields["key"].choices = [spec.key for spec in EDITABLE]


class ChannelSerializer(serializers.ModelSerializer):
    """A channel as its owner sees it: never its secret (the Apprise URL's token, the browser's keys)."""

    url = serializers.CharField(write_only=True, required=False, max_length=2000, help_text="an Apprise URL")
    subscription = serializers.JSONField(
        write_only=True, required=False, help_text="the browser's PushSubscription as JSON"
    )
    rules = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=50)

    class Meta:
        model = Channel
        fields = [
            "id",
            "kind",
            "name",
            "address",
            "url",
            "subscription",
            "rules",
            "enabled",
            "created_at",
            "last_ok_at",
            "last_error",
            "last_error_at",
        ]
        read_only_fields = ["enabled", "created_at", "last_ok_at", "last_error", "last_error_at"]


class ChannelChangeSerializer(serializers.Serializer):
    rules = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=50)
    enabled = serializers.BooleanField(required=False)


class SmtpSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500, help_text="left out: kept as it is"
    )
    has_password = serializers.SerializerMethodField()

    class Meta:
        model = SmtpSettings
        fields = ["host", "port", "security", "username", "password", "has_password", "sender"]

    def get_has_password(self, smtp) -> bool:
        return bool(smtp.password)


class SmtpTestSerializer(serializers.Serializer):
    to = serializers.EmailField()
