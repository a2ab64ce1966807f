"""API shapes for accounts. Input validation only; writes go through services."""

from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext as _
from rest_framework import serializers

from .models import APIToken, AuditEvent, User, UserSession


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "role",
            "is_active",
            "may_install_apps",
            "mfa_enabled",
            "language",
            "theme",
            "last_login",
            "date_joined",
        ]
        read_only_fields = ["id", "username", "mfa_enabled", "language", "theme", "last_login", "date_joined"]


class PreferencesSerializer(serializers.Serializer):
    """What a user may change about themselves through PATCH /api/me/."""

    language = serializers.ChoiceField(choices=[("", ""), *settings.LANGUAGES], allow_blank=True, required=False)
    theme = serializers.ChoiceField(choices=User.Theme.choices, required=False)


class UserCreateSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=User.Role.choices, default=User.Role.MEMBER)
    may_install_apps = serializers.BooleanField(required=False, default=False)
    password = serializers.CharField(write_only=True, trim_whitespace=False)

    def validate_username(self, value):
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError(_("That username is taken."))
        return value

    def validate(self, attrs):
        password_validation.validate_password(attrs["password"], User(username=attrs["username"]))
        return attrs


class UserUpdateSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=User.Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)
    may_install_apps = serializers.BooleanField(required=False)
    password = serializers.CharField(write_only=True, required=False, trim_whitespace=False)


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = APIToken
        fields = ["id", "name", "scope", "prefix", "created_at", "expires_at", "last_used_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at"]


class SessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = UserSession
        fields = ["id", "user_agent", "address", "created_at", "last_seen_at"]


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor_name", "action", "target", "address", "details"]
