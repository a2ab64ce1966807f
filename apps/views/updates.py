"""Updates: update one app now, check for one, hold an app at its version, update every app."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required
from apps.selectors import app_get_for
from apps.services.common import InstallError, engine_said
from apps.services.update import app_hold, app_update_all, app_update_check, app_update_start
from apps.views.common import back, refused
from casaos_site.i18n import shown
from runtime.errors import EngineError


@admin_required
@require_POST
def update(request, pk: int):
    inst = app_get_for(user=request.user, pk=pk)
    try:
        app_update_start(
            user=request.user,
            installation=inst,
            consent=request.POST.get("consent") == "on",
            consent_paths=request.POST.getlist("consent_paths"),
            backup=request.POST.get("no_backup") != "on",
            request=request,
        )
    except InstallError as exc:
        refused(request, exc)
    return back(request, pk)


@admin_required
@require_POST
def update_check(request, pk: int):
    inst = app_get_for(user=request.user, pk=pk)
    try:
        state = app_update_check(installation=inst, force=True)
    except EngineError as exc:
        messages.error(request, engine_said(exc))
    else:
        messages.info(request, shown(state.reason) or _("%(app)s is up to date.") % {"app": inst})
    return back(request, pk)


@admin_required
@require_POST
def hold(request, pk: int):
    inst = app_get_for(user=request.user, pk=pk)
    app_hold(user=request.user, installation=inst, held=request.POST.get("held") == "1", request=request)
    return back(request, pk)


@admin_required
@require_POST
def update_all(request):
    result = app_update_all(user=request.user, request=request)
    if result["queued"]:
        messages.info(request, _("Updating: %(apps)s") % {"apps": ", ".join(result["queued"])})
    for line in result["skipped"]:
        messages.warning(request, line)
    if not result["queued"] and not result["skipped"]:
        messages.info(request, _("Every app is up to date."))
    return redirect("apps")
