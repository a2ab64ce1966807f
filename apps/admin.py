"""Django admin for apps: read the truth, and act through the same services as the pages and the API."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from .models import Installation
from .services import InstallError, app_cancel, app_install_retry, app_uninstall


@admin.register(Installation)
class InstallationAdmin(admin.ModelAdmin):
    """Installs are made by the install service only (its checks, its queue): adding here opens that form."""

    list_display = ("name", "title", "status", "source", "web_port", "attempts", "updated_at")
    list_filter = ("status", "source")
    search_fields = ("name", "title")
    actions = ("cancel_installs", "retry_installs", "uninstall_apps")
    readonly_fields = [f.name for f in Installation._meta.fields]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("app-install")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # state changes only through the services

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a row deleted here would orphan its containers: use "uninstall"

    @admin.action(description=_("Cancel the selected installs"))
    def cancel_installs(self, request, queryset):
        self._each(request, queryset, lambda inst: app_cancel(user=request.user, installation=inst, request=request))

    @admin.action(description=_("Retry the selected failed or cancelled installs"))
    def retry_installs(self, request, queryset):
        self._each(
            request, queryset, lambda inst: app_install_retry(user=request.user, installation=inst, request=request)
        )

    @admin.action(description=_("Uninstall the selected apps (keeping their data)"))
    def uninstall_apps(self, request, queryset):
        self._each(request, queryset, lambda inst: app_uninstall(user=request.user, installation=inst, request=request))

    def _each(self, request, queryset, action) -> None:
        for inst in queryset:
            try:
                action(inst)
            except InstallError as exc:
                self.message_user(request, f"{inst.name}: {exc.messages[0]}", messages.WARNING)
