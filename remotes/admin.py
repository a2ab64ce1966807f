"""Remotes in the Django admin: to look at, never to edit. Secrets are not shown at all; changes go through the page
and the API, whose services check, mount and audit them (a row edited here would skip all three)."""

from django.contrib import admin

from .models import Remote, SyncJob, SyncRun


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Remote)
class RemoteAdmin(ReadOnly):
    list_display = ["name", "kind", "state", "checked_at"]
    list_filter = ["kind", "state"]
    fields = ["name", "kind", "options", "state", "message", "checked_at", "created_by", "created_at"]  # no secrets


@admin.register(SyncJob)
class SyncJobAdmin(ReadOnly):
    list_display = ["__str__", "direction", "schedule", "enabled", "last_started"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnly):
    list_display = ["__str__", "state", "bytes_done", "bytes_total", "started_at", "finished_at"]
    list_filter = ["state"]
