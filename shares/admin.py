"""Shares in the Django admin: changes go through the same services as the page and the API (audited, applied)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from .models import SambaAccount, Share, ShareGrant
from .services import share_change, share_create, share_remove, shares_retry
from .validation import ShareRefused, check_share_name, share_folder


class ShareAdminForm(forms.ModelForm):
    """The page's checks (name, folder inside a root and safe for smb.conf) as form errors."""

    class Meta:
        model = Share
        fields = ("name", "place", "guest", "visible", "recycle")

    def clean(self):
        data = super().clean()
        try:
            data["name"] = check_share_name(data.get("name", ""))
            share_folder(data.get("place", ""))
        except ShareRefused as exc:
            raise ValidationError({exc.field or None: exc.message}) from None
        return data


class ShareGrantInline(admin.TabularInline):
    model = ShareGrant
    extra = 0
    autocomplete_fields = ()
    # Grants are read here: changing them goes through the page or the API, which apply them to Samba.
    readonly_fields = ("user", "access")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    form = ShareAdminForm
    list_display = ("name", "place", "state", "guest", "visible", "recycle", "applied_at")
    list_filter = ("state", "guest", "visible")
    search_fields = ("name", "place")
    fields = ("name", "place", "guest", "visible", "recycle", "state", "error", "real_path", "applied_at")
    readonly_fields = ("state", "error", "real_path", "applied_at")
    inlines = [ShareGrantInline]
    actions = ["apply_again"]

    def save_model(self, request, obj, form, change):
        fields = {key: form.cleaned_data[key] for key in ("name", "place", "guest", "visible", "recycle")}
        if change:
            share_change(user=request.user, share=Share.objects.get(pk=obj.pk), request=request, **fields)
        else:
            obj.pk = share_create(user=request.user, request=request, grants={}, **fields).pk

    def delete_model(self, request, obj):
        share_remove(user=request.user, share=obj, request=request)

    def delete_queryset(self, request, queryset):
        for share in queryset:
            share_remove(user=request.user, share=share, request=request)

    @admin.action(description="Apply the shares again")
    def apply_again(self, request, queryset):
        shares_retry(user=request.user, request=request)


@admin.register(SambaAccount)
class SambaAccountAdmin(admin.ModelAdmin):
    list_display = ("unix_name", "user", "password_set_at")
    search_fields = ("unix_name", "user__username")
    readonly_fields = ("user", "unix_name", "password_set_at")

    def has_add_permission(self, request) -> bool:
        return False  # made when a share names the user or they set an SMB password
