"""The notification centre in the Django admin: rules are edited through the same service as the page; the rest is
there to look at (secrets never shown: an Apprise URL's token, a browser's keys, the SMTP password)."""

from django.contrib import admin

from casaos_site.i18n import shown

from .models import Channel, Delivery, Notification, Rule, SmtpSettings
from .services import rules_update


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    """Every person's notifications (deleting one is allowed: it only leaves their bell)."""

    list_display = ["created_at", "user", "kind", "severity", "text", "read_at", "dismissed_at"]
    list_filter = ["kind", "severity"]
    search_fields = ["user__username", "kind"]

    @admin.display(description="message")
    def text(self, note: Notification) -> str:
        return shown(note.message)


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """The built-in rules' settings; a save is audited like one from the settings page."""

    list_display = ["key", "enabled", "threshold", "cooldown_minutes"]
    list_editable = ["enabled", "threshold", "cooldown_minutes"]
    readonly_fields = ["key"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        values = {"key": obj.key, **{name: form.cleaned_data[name] for name in form.changed_data}}
        rules_update(actor=request.user, changes=[values], request=request)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    """People's channels and their last error; only on/off changes here."""

    list_display = ["user", "kind", "name", "address", "enabled", "last_ok_at", "last_error_at", "last_error"]
    list_filter = ["kind", "enabled"]
    fields = ["user", "kind", "name", "address", "rules", "enabled", "last_ok_at", "last_error", "last_error_at"]
    readonly_fields = ["user", "kind", "name", "address", "rules", "last_ok_at", "last_error", "last_error_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    """The outbox: what went out through which channel, and what failed with which error."""

    list_display = ["created_at", "channel", "kind", "status", "attempts", "error", "sent_at"]
    list_filter = ["status", "kind"]


@admin.register(SmtpSettings)
class SmtpSettingsAdmin(ReadOnly):
    """The SMTP server (changed on Settings → Notifications, where the password is write-only)."""

    list_display = ["host", "port", "security", "username", "sender"]
    exclude = ["password"]
