"""Storage in the Django admin: the settings through their service; the rest to look at, never to edit.

Disks, partitions and mounts are what the host says and what our services did after their safety checks (system disk,
mounted, pooled, typed confirmation): a row edited here would bypass those checks, so they are read-only, and the
actions stay on the Storage page and the API.
"""

from django.contrib import admin

from .models import Disk, DiskJob, HealthSample, Mount, Partition, Pool, StorageSettings
from .preferences import FIELDS, storage_settings_update


@admin.register(StorageSettings)
class StorageSettingsAdmin(admin.ModelAdmin):
    """Automount and the disk-full threshold; saved through the same service as the API (validated, audited)."""

    list_display = ["__str__", "automount", "full_threshold"]
    fields = list(FIELDS)

    def has_add_permission(self, request):
        return False  # the one row is made on first use

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in FIELDS}
        storage_settings_update(user=request.user, request=request, **changes)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PartitionInline(admin.TabularInline):
    model = Partition
    fields = ["number", "name", "fstype", "label", "uuid", "mountpoint", "size"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Disk)
class DiskAdmin(ReadOnlyAdmin):
    list_display = ["stable_id", "name", "model", "serial", "size", "transport", "is_system", "health", "present"]
    list_filter = ["kind", "is_system", "present", "transport"]
    search_fields = ["stable_id", "model", "serial", "name"]
    inlines = [PartitionInline]


@admin.register(Mount)
class MountAdmin(ReadOnlyAdmin):
    list_display = ["name", "target", "fstype", "label", "state", "created_at"]
    list_filter = ["state", "fstype"]


@admin.register(Pool)
class PoolAdmin(ReadOnlyAdmin):
    list_display = ["name", "target", "policy", "state", "created_at"]
    list_filter = ["state"]


@admin.register(HealthSample)
class HealthSampleAdmin(ReadOnlyAdmin):
    list_display = ["disk", "at", "health", "temperature", "reallocated", "pending", "uncorrectable"]
    list_filter = ["health"]
    date_hierarchy = "at"


@admin.register(DiskJob)
class DiskJobAdmin(ReadOnlyAdmin):
    list_display = ["disk", "operation", "fstype", "label", "status", "progress", "created_at", "finished_at"]
    list_filter = ["status", "operation"]


@admin.register(Partition)
class PartitionAdmin(ReadOnlyAdmin):
    list_display = ["name", "disk", "fstype", "label", "uuid", "mountpoint"]
    search_fields = ["uuid", "label", "name"]
