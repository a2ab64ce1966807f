from django.contrib import admin

from .models import NetworkChange


@admin.register(NetworkChange)
class NetworkChangeAdmin(admin.ModelAdmin):
    """The history of interface changes: read-only (a change is made on the Network page, behind a checkpoint)."""

    list_display = ("created_at", "interface", "method", "address", "status", "requested_by")
    list_filter = ("status", "method")
    search_fields = ("interface", "address")
    exclude = ("token_hash",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
