"""Django admin: the same rows the pages and the API use (grants are created through the service checks)."""

from django.contrib import admin

from .models import FileTask, FolderGrant, ShareLink, TrashItem, Upload


@admin.register(FolderGrant)
class FolderGrantAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "place", "access", "created_at")
    list_filter = ("access", "disk_name")

    def has_add_permission(self, request):
        return False  # paths are checked by files.services.grant_create: use the Files → Shared folders page

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ("path", "user", "access", "expires_at", "revoked_at", "downloads")
    list_filter = ("access",)
    readonly_fields = ("token", "user", "path", "is_dir", "access", "password", "created_at", "downloads")
    exclude = ()

    def has_add_permission(self, request):
        return False


@admin.register(FileTask)
class FileTaskAdmin(admin.ModelAdmin):
    list_display = ("kind", "user", "status", "destination", "bytes_done", "bytes_total", "created_at")
    list_filter = ("kind", "status")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("filename", "user", "directory", "offset", "length", "status", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TrashItem)
class TrashItemAdmin(admin.ModelAdmin):
    list_display = ("original_path", "user", "size", "deleted_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
