from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services
from .models import AppstoreSettings, CatalogApp, InstalledTemplate, Store


@admin.register(AppstoreSettings)
class AppstoreSettingsAdmin(admin.ModelAdmin):
    """The LAN-stores switch."""

    list_display = ["__str__", "allow_lan_stores"]

    def has_add_permission(self, request):
        return not AppstoreSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    """Stores; saving goes through the same service as the page and the API."""

    list_display = ["name", "kind", "source", "enabled", "status", "app_count", "synced_at"]
    list_filter = ["kind", "enabled", "status"]
    fields = [
        "name",
        "kind",
        "url",
        "path",
        "enabled",
        "is_default",
        "status",
        "progress",
        "message",
        "error",
        "error_code",
        "problems",
        "app_count",
        "synced_at",
        "attempted_at",
    ]
    readonly_fields = [
        "kind",
        "url",
        "path",
        "is_default",
        "status",
        "progress",
        "message",
        "error",
        "error_code",
        "problems",
        "app_count",
        "synced_at",
        "attempted_at",
    ]
    actions = ["sync_now"]

    def has_add_permission(self, request):
        return False  # added on the stores page or through the API, where the URL is checked

    @admin.action(description=gettext_lazy("Sync now"))
    def sync_now(self, request, queryset):
        for store in queryset:
            services.store_sync(store=store)
        messages.info(request, _("%(n)s store(s) queued.") % {"n": queryset.count()})

    def save_model(self, request, obj, form, change):
        # Switching a store on or off goes through the service (audit, and a sync when it comes back on).
        enabled = obj.enabled
        if change and "enabled" in form.changed_data:
            obj.enabled = not enabled
        super().save_model(request, obj, form, change)
        if obj.enabled != enabled:
            services.store_set_enabled(user=request.user, store=obj, enabled=enabled, request=request)

    def delete_model(self, request, obj):
        services.store_delete(user=request.user, store=obj, request=request)


@admin.register(CatalogApp)
class CatalogAppAdmin(admin.ModelAdmin):
    """Read-only view of the catalogue (a sync replaces it)."""

    list_display = ["title_sort", "store_app_id", "store", "category", "author_type", "version", "needs_consent"]
    list_filter = ["store", "category", "author_type", "needs_consent"]
    search_fields = ["title_sort", "store_app_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(InstalledTemplate)
class InstalledTemplateAdmin(admin.ModelAdmin):
    """Which store template each installed app came from, and whether the store offers a newer one (read only)."""

    list_display = [
        "installation",
        "store",
        "store_app_id",
        "version",
        "update_available",
        "available_version",
        "checked_at",
    ]
    list_filter = ["update_available", "store"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
