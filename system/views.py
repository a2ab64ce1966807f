"""Pages of Settings → System and the Logs page (admins): thin, every write through system/services.py."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required, stepup_is_fresh

from .forms import LogFilterForm, SystemSettingsForm
from .releases import release_check
from .selectors import system_hardware, system_logs, system_settings_view
from .services import SystemRefused, system_power, system_settings_update

LOG_LINES = 300  # lines the Logs page shows (the API may ask for up to 1,000)


@admin_required
def system_settings_page(request):
    """The settings with their state (pending web address), power, version and hardware."""
    if request.method != "POST":
        return _page(request, SystemSettingsForm(initial=system_settings_view()))
    form = SystemSettingsForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        changed = system_settings_update(user=request.user, request=request, **form.cleaned_data)
    except SystemRefused as exc:
        form.add_error(exc.field or None, exc.message)
        return _page(request, form, status=exc.status)
    messages.success(request, _("Saved.") if changed else _("Nothing changed."))
    return redirect("settings-system")


def _page(request, form, *, status: int = 200):
    context = {
        "section": "system",
        "form": form,
        "state": system_settings_view(),
        "hardware": system_hardware(),
        "stepup_fresh": stepup_is_fresh(request),
    }
    return render(request, "system/settings.html", context, status=status)


@admin_required
def system_release(request):
    """The update check, fetched after the page (the feed may be slow or away); `?fresh=1` looks again."""
    release = release_check(fresh=request.GET.get("fresh") == "1")
    return render(request, "system/partials/_release.html", {"release": release})


def _power(request, action: str, done: str):
    try:
        system_power(
            user=request.user,
            request=request,
            action=action,
            confirm=request.POST.get("confirm", ""),
            stepped_up=stepup_is_fresh(request),
        )
    except SystemRefused as exc:
        messages.error(request, exc.message)
        return redirect("settings-system")
    return render(request, "system/power.html", {"section": "system", "done": done})


@admin_required
@require_POST
def system_restart(request):
    return _power(request, "restart", _("The box is restarting. This page will answer again in a minute or two."))


@admin_required
@require_POST
def system_shutdown(request):
    return _power(request, "shutdown", _("The box is shutting down. Switch it on again to come back."))


@admin_required
def logs_page(request):
    """Our processes' log: level, process and text filters, and a live tail."""
    form, entries = _logs(request)
    return render(request, "system/logs.html", {"section": "logs", "form": form, "entries": entries})


@admin_required
def logs_lines(request):
    """The lines alone: what the filters and the live tail fetch."""
    form, entries = _logs(request)
    return render(request, "system/partials/_log_lines.html", {"form": form, "entries": entries})


def _logs(request):
    form = LogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    entries = system_logs(
        level=filters.get("level", ""),
        text=filters.get("q", ""),
        process=filters.get("process", ""),
        limit=LOG_LINES,
    )
    return form, entries
