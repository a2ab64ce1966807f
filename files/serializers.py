"""API shapes of the file manager: inputs are validated here, all checks on paths happen in the services."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from casaos_site.i18n import ShownField

from .models import FileTask, FolderGrant, ShareLink, TrashItem

PATH = {"allow_blank": True, "max_length": 4096, "trim_whitespace": False}
NAME = {"max_length": 1024, "trim_whitespace": False}


class EntrySerializer(serializers.Serializer):
    name = serializers.CharField()
    path = serializers.CharField()
    is_dir = serializers.BooleanField()
    is_link = serializers.BooleanField()
    link_outside = serializers.BooleanField(help_text=_("A symlink leading outside: shown, never followed."))
    size = serializers.IntegerField()
    modified = serializers.FloatField()
    mode = serializers.CharField()
    owner = serializers.CharField()
    group = serializers.CharField()
    mime = serializers.CharField()
    hidden = serializers.BooleanField()


class ListingSerializer(serializers.Serializer):
    path = serializers.CharField()
    writable = serializers.BooleanField()
    free = serializers.IntegerField(
        allow_null=True, help_text=_("Bytes free on the disk of this folder (uploads land there).")
    )
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    pages = serializers.IntegerField()
    breadcrumb = serializers.ListField(child=serializers.DictField())
    entries = EntrySerializer(many=True)


class NameInSerializer(serializers.Serializer):
    path = serializers.CharField(
        help_text=_("Folder (mkdir, new file) or entry (rename), relative to your view."), **PATH
    )
    name = serializers.CharField(**NAME)


class PathsInSerializer(serializers.Serializer):
    paths = serializers.ListField(child=serializers.CharField(**PATH), min_length=1, max_length=10_000)


class TransferInSerializer(serializers.Serializer):
    sources = serializers.ListField(child=serializers.CharField(**PATH), min_length=1, max_length=10_000)
    destination = serializers.CharField(**PATH)
    conflict = serializers.ChoiceField(choices=FileTask.Conflict.choices, default=FileTask.Conflict.KEEP_BOTH)


class ExtractInSerializer(serializers.Serializer):
    path = serializers.CharField(**PATH)
    destination = serializers.CharField(**PATH)


class CompressInSerializer(serializers.Serializer):
    paths = serializers.ListField(child=serializers.CharField(**PATH), min_length=1, max_length=10_000)
    destination = serializers.CharField(**PATH)
    name = serializers.CharField(**NAME)


class PermissionsInSerializer(serializers.Serializer):
    path = serializers.CharField(**PATH)
    mode = serializers.CharField(required=False, max_length=4, help_text=_('Octal, e.g. "755".'))
    owner = serializers.CharField(required=False, max_length=64)
    group = serializers.CharField(required=False, max_length=64)
    recursive = serializers.BooleanField(default=False)


class TextInSerializer(serializers.Serializer):
    content = serializers.CharField(allow_blank=True, trim_whitespace=False)


class FileTaskSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    error = ShownField(read_only=True, help_text=_("why the task failed, in your language"))

    class Meta:
        model = FileTask
        fields = [
            "id",
            "kind",
            "status",
            "sources",
            "destination",
            "conflict",
            "bytes_total",
            "bytes_done",
            "files_total",
            "files_done",
            "percent",
            "error",
            "created_at",
            "finished_at",
        ]


class TrashItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrashItem
        fields = ["id", "name", "original_path", "is_dir", "size", "deleted_at"]


class ShareLinkSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    has_password = serializers.SerializerMethodField()
    is_active = serializers.BooleanField(read_only=True)
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=128)

    class Meta:
        model = ShareLink
        fields = [
            "id",
            "token",
            "url",
            "path",
            "is_dir",
            "access",
            "expires_at",
            "password",
            "has_password",
            "is_active",
            "revoked_at",
            "created_at",
            "downloads",
        ]
        read_only_fields = ["id", "token", "url", "is_dir", "revoked_at", "created_at", "downloads"]

    def get_url(self, obj) -> str:
        request = self.context.get("request")
        url = reverse("files-share", kwargs={"token": obj.token})
        return request.build_absolute_uri(url) if request else url

    def get_has_password(self, obj) -> bool:
        return bool(obj.password)


class FolderGrantSerializer(serializers.ModelSerializer):
    class Meta:
        model = FolderGrant
        fields = ["id", "user", "path", "name", "access", "disk", "disk_name", "place", "created_at"]
        read_only_fields = ["id", "disk", "disk_name", "place", "created_at"]

    place = serializers.CharField(read_only=True)
