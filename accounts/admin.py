"""The Django admin: django-otp's admin site (MFA applies here too), users with roles, tokens, lockouts, audit."""

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import APIToken, AuditEvent, FailureCounter, SiteSecurity, User, UserSession
from .permissions import request_mfa_satisfied
from .selectors import active_admin_remains
from .services.audit import audit_record
from .services.sessions import sessions_end_all, sessions_sockets_close
from .services.tokens import api_token_revoke
from .services.users import LastAdminError, audit_install_right, user_delete, user_guard_last_admin


class CasaAdminSite(OTPAdminSite):
    """django-otp's admin site: admins only, and only once the session passed its MFA step.

    Users who have no MFA (and are not required to) pass without a device; the login is always ours,
    with its lockout, never the admin's own form.
    """

    def has_permission(self, request) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff and request_mfa_satisfied(request)):
            return False
        return not user.mfa_enabled or user.is_verified()

    def login(self, request, extra_context=None):
        if not request.user.is_authenticated:
            return redirect_to_login(request.GET.get("next", reverse("admin:index")))
        if self.has_permission(request):
            return redirect("admin:index")
        raise PermissionDenied


# The project's URLconf and every app register on admin.site; giving it our class makes them all MFA-aware.
admin.site.__class__ = CasaAdminSite

# django-otp's device admins would store a TOTP key or backup codes in clear, outside our services: MFA devices are
# ours (accounts.models) and change only through the Settings pages and `manage.py removemfa`.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class UserChangeForm(BaseUserChangeForm):
    """The admin's user form refuses to demote or disable the last active admin, as the Settings page does."""

    def clean(self):
        cleaned = super().clean()
        stored = User.objects.get(pk=self.instance.pk)  # the instance gets the form's values only after clean()
        try:
            user_guard_last_admin(
                user=stored, role=cleaned.get("role", stored.role), is_active=cleaned.get("is_active", stored.is_active)
            )
        except LastAdminError:
            raise ValidationError(LastAdminError.message) from None
        return cleaned


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users in the Django admin, with their role; changes are audited and deletions go through the service, like
    the Settings page's (the last active admin can be neither demoted, disabled nor deleted)."""

    form = UserChangeForm

    list_display = ("username", "email", "role", "may_install_apps", "is_active", "mfa_enabled", "last_login")
    list_filter = ("role", "may_install_apps", "is_active", "mfa_enabled")
    readonly_fields = ("mfa_enabled", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Role", {"fields": ("role", "may_install_apps", "is_active", "mfa_enabled")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "role", "may_install_apps", "password1", "password2")}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            audit_record(action="user.created", request=request, target=obj.username, details={"role": obj.role})
            if obj.may_install_apps:
                audit_install_right(actor=request.user, user=obj, request=request)
            return
        if "may_install_apps" in form.changed_data:
            audit_install_right(actor=request.user, user=obj, request=request)
        if "role" in form.changed_data:
            audit_record(action="user.role_changed", request=request, target=obj.username, details={"role": obj.role})
            sessions_sockets_close(user=obj)
        if "is_active" in form.changed_data:
            audit_record(
                action="user.enabled" if obj.is_active else "user.disabled", request=request, target=obj.username
            )
            if not obj.is_active:
                sessions_end_all(user=obj)

    def get_deleted_objects(self, objs, request):
        # Both the delete page and the bulk "delete selected" action ask this first; a protected entry makes
        # them show why and refuse the POST.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        users = list(objs)
        if any(user.is_admin for user in users) and not active_admin_remains(without=[user.pk for user in users]):
            protected = [*protected, LastAdminError.message]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        user_delete(actor=request.user, user=obj, request=request)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for user in queryset:
                user_delete(actor=request.user, user=user, request=request)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log, read-only."""

    list_display = ("at", "actor_name", "action", "target", "address")
    list_filter = ("action",)
    search_fields = ("actor_name", "action", "target", "address")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description=gettext_lazy("Revoke the selected tokens"))
def revoke_tokens(modeladmin, request, queryset):
    """Asks first on a page naming the tokens (as Django's own delete action does), then revokes them."""
    if request.POST.get("confirmed") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": _("Revoke tokens?"),
            "opts": modeladmin.model._meta,
            "tokens": queryset.select_related("user"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/accounts/revoke_tokens.html", context)
    for token in queryset:
        api_token_revoke(token=token, actor=request.user, request=request)
    modeladmin.message_user(request, _("%(n)s token(s) revoked.") % {"n": len(queryset)})
    return None


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    """API tokens (only their prefix is known); revoke, never read."""

    list_display = ("name", "user", "scope", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("scope",)
    actions = [revoke_tokens]
    readonly_fields = ("user", "name", "scope", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request):
        return False


@admin.register(FailureCounter)
class FailureCounterAdmin(admin.ModelAdmin):
    """Lockout counters: delete one to unlock."""

    list_display = ("kind", "key", "failures", "last_failure_at", "locked_until")
    list_filter = ("kind",)
    readonly_fields = ("kind", "key", "failures", "last_failure_at", "locked_until")

    def has_add_permission(self, request):
        return False


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ("user", "address", "user_agent", "created_at", "last_seen_at")
    readonly_fields = ("user", "address", "user_agent", "created_at", "last_seen_at")
    exclude = ("session_key",)

    def has_add_permission(self, request):
        return False


@admin.register(SiteSecurity)
class SiteSecurityAdmin(admin.ModelAdmin):
    list_display = ("__str__", "require_admin_mfa")
