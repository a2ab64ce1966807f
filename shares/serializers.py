"""API shapes of shares and of a user's SMB password."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from casaos_site.i18n import shown

from .models import Share, ShareGrant


class GrantSerializer(serializers.Serializer):
    user = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text=_("Id of one of our users."))
    access = serializers.ChoiceField(choices=ShareGrant.Access.choices)


class GrantReadSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    smb_name = serializers.SerializerMethodField()
    password_set = serializers.SerializerMethodField()

    class Meta:
        model = ShareGrant
        fields = ["user", "username", "smb_name", "password_set", "access"]

    def get_smb_name(self, grant) -> str:
        account = getattr(grant.user, "samba_account", None)
        return account.unix_name if account else ""

    def get_password_set(self, grant) -> bool:
        account = getattr(grant.user, "samba_account", None)
        return bool(account and account.password_set_at)


class ShareSerializer(serializers.ModelSerializer):
    grants = GrantReadSerializer(many=True, read_only=True)
    error = serializers.SerializerMethodField()

    class Meta:
        model = Share
        fields = ["id", "name", "place", "guest", "visible", "recycle", "grants", "state", "error", "real_path",
                  "applied_at", "created_at", "updated_at"]  # fmt: skip

    def get_error(self, share) -> str:
        return shown(share.error)  # a stored message id, in the reader's language; Samba's own words stay


class ShareWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, trim_whitespace=False)
    place = serializers.CharField(
        max_length=1024,
        allow_blank=True,
        trim_whitespace=False,
        help_text=_("The folder as the admin's Files view names it: “Media/Films”, or “@Data/Films” on a disk."),
    )
    guest = serializers.BooleanField(default=False)
    visible = serializers.BooleanField(default=True)
    recycle = serializers.BooleanField(default=False)
    grants = GrantSerializer(many=True, default=list)


class SmbStateSerializer(serializers.Serializer):
    username = serializers.CharField(help_text=_("The SMB user name to log in with."))
    password_set = serializers.BooleanField()
    password_set_at = serializers.DateTimeField(allow_null=True)


class SmbPasswordSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=256, trim_whitespace=False, write_only=True)
