"""Pages: the notification list, the bell's fragment and actions, and Settings → Notifications."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.permissions import admin_required, member_required

from . import channels as channel_services
from . import services
from .api import rules_listed
from .forms import AppriseChannelForm, ChannelRulesForm, EmailChannelForm, SmtpForm, SmtpTestForm
from .models import Channel, Notification, SmtpSettings
from .push import push_keys
from .rules import EDITABLE
from .selectors import bell_context

ACTIONS = ("read", "unread", "dismiss", "open")


@never_cache
@member_required
def index(request):
    """Every notification of the person (or only the unread), with read, unread and dismiss."""
    unread = request.GET.get("show") == "unread"
    rows = services.notifications_of(user=request.user, unread=unread)[:500]
    return render(request, "notifications/index.html", {"notes": rows, "unread_only": unread})


@never_cache
@member_required
def bell(request):
    """The bell on its own: what a page without a socket polls."""
    return render(request, "notifications/partials/_bell_live.html", bell_context(user=request.user))


@require_POST
@member_required
def act(request, pk: int, action: str):
    """Read, unread, dismiss or open (read, then go to its link) one of the person's own notifications."""
    if action not in ACTIONS:
        raise Http404
    try:
        if action == "dismiss":
            services.notification_dismiss(user=request.user, pk=pk)
        else:
            note = services.notification_mark(user=request.user, pk=pk, read=action != "unread")
    except Notification.DoesNotExist:
        raise Http404 from None
    if action == "open":
        target = note.link if url_has_allowed_host_and_scheme(note.link, allowed_hosts=None) else ""
        target = target or reverse("notifications")
        return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    return _back(request)


@require_POST
@member_required
def read_all(request):
    services.notifications_read_all(user=request.user)
    return _back(request)


def _back(request):
    if request.htmx:
        return render(request, "notifications/partials/_bell_live.html", bell_context(user=request.user))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "notifications"
    return redirect(target)


# ---------------------------------------------------------------------------- Settings → Notifications
def _settings_page(request, status: int = 200, **forms):
    user = request.user
    channel_services.channel_inapp(user=user)
    channels = [
        (c, ChannelRulesForm(initial={"rules": c.rules}, prefix=f"c{c.pk}")) for c in user.notify_channels.all()
    ]
    context = {
        "section": "notifications",
        "channels": channels,
        "rule_labels": {spec.key: spec.label for spec in EDITABLE},
        "email_form": forms.get("email_form") or EmailChannelForm(initial={"address": user.email}),
        "apprise_form": forms.get("apprise_form") or AppriseChannelForm(),
        "push_key": push_keys().public_key,
    }
    if user.is_admin:
        smtp = SmtpSettings.load()
        context |= {
            "rules": rules_listed(),
            "smtp": smtp,
            "smtp_form": forms.get("smtp_form") or SmtpForm(instance=smtp),
            "smtp_test_form": forms.get("smtp_test_form") or SmtpTestForm(initial={"to": user.email}),
        }
    return render(request, "notifications/settings.html", context, status=status)


@never_cache
@member_required
def settings_page(request):
    """The person's channels and their rules; for admins also the rules' settings and the SMTP server."""
    return _settings_page(request)


@require_POST
@member_required
def channel_add(request, kind: str):
    """Add an email or Apprise channel (Web Push is added by the page's script through the API)."""
    form_class = {"email": EmailChannelForm, "apprise": AppriseChannelForm}.get(kind)
    if form_class is None:
        raise Http404
    form, status = form_class(request.POST), 400
    if form.is_valid():
        try:
            channel_services.channel_create(user=request.user, kind=kind, **form.cleaned_data)
        except channel_services.ChannelError as exc:
            form.add_error(None, str(exc))
        except PermissionDenied as exc:  # shown on the form, answered 403
            form.add_error(None, str(exc))
            status = 403
    if form.errors:
        return _settings_page(request, status=status, **{f"{kind}_form": form})
    messages.success(request, _("Channel added."))
    return redirect("notification-settings")


@require_POST
@member_required
def channel_action(request, pk: int, action: str):
    """Save a channel's rules, send it a test, turn it off or on, or remove it (the person's own only)."""
    channel = get_object_or_404(Channel, pk=pk, user=request.user)
    if action == "rules":
        form = ChannelRulesForm(request.POST, prefix=f"c{pk}")
        if form.is_valid():
            channel_services.channel_update(channel=channel, rules=form.cleaned_data["rules"])
            messages.success(request, _("Saved."))
    elif action == "test":
        channel_services.channel_test(channel=channel)
        messages.success(request, _("A test message is on its way; its result shows beside the channel."))
    elif action == "toggle":
        channel_services.channel_update(channel=channel, enabled=not channel.enabled)
    elif action == "delete" and channel.kind != Channel.Kind.INAPP:
        channel_services.channel_delete(channel=channel)
        messages.success(request, _("Channel removed."))
    else:
        raise Http404
    return redirect("notification-settings")


@require_POST
@admin_required
def rules_save(request):
    """Save every rule's on/off, threshold and cool-down from the rules table."""
    changes, errors = [], []
    for spec in EDITABLE:
        change = {"key": spec.key, "enabled": request.POST.get(f"{spec.key}-enabled") == "on"}
        try:
            change["cooldown_minutes"] = _number(request.POST.get(f"{spec.key}-cooldown"), 0, 30 * 24 * 60)
            if spec.threshold is not None:
                change["threshold"] = _number(request.POST.get(f"{spec.key}-threshold"), 1, 100000)
        except ValueError:
            errors.append(str(spec.label))
        changes.append(change)
    if errors:
        messages.error(request, _("Not a valid number: %(rules)s") % {"rules": ", ".join(errors)})
        return redirect("notification-settings")
    services.rules_update(actor=request.user, changes=changes, request=request)
    messages.success(request, _("Rules saved."))
    return redirect("notification-settings")


def _number(raw, low: int, high: int) -> int:
    value = int(raw or "")
    if not low <= value <= high:
        raise ValueError(raw)
    return value


@require_POST
@admin_required
@sensitive_post_parameters("password")
def smtp_save(request):
    form = SmtpForm(request.POST, instance=SmtpSettings.load())
    if not form.is_valid():
        return _settings_page(request, status=400, smtp_form=form)
    values = dict(form.cleaned_data)
    if not values["password"]:
        del values["password"]  # an empty field keeps the saved password
    channel_services.smtp_update(actor=request.user, values=values, request=request)
    messages.success(request, _("SMTP settings saved."))
    return redirect("notification-settings")


@require_POST
@admin_required
def smtp_test(request):
    form = SmtpTestForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, status=400, smtp_test_form=form)
    error = channel_services.smtp_test(to=form.cleaned_data["to"])
    if error:
        messages.error(request, _("The test mail was not sent: %(error)s") % {"error": error})
    else:
        messages.success(request, _("The test mail was sent to %(to)s.") % {"to": form.cleaned_data["to"]})
    return redirect("notification-settings")
