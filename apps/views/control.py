"""One installed app's page: status, live figures, start/stop/restart, and uninstall (with or without its data)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required, member_required
from accounts.views.common import stepup_from_post
from apps.selectors import app_card, app_containers, app_detail, app_get_for, app_stats
from apps.services.common import InstallError, engine_for
from apps.services.control import app_control
from apps.services.uninstall import app_deletable_data, app_remove
from apps.views.common import back, refused


@member_required
def manage(request, pk: int):
    """One app: status, controls, containers (ports, volumes, env with secrets masked), updates, history."""
    inst = app_get_for(user=request.user, pk=pk)
    eng = engine_for(inst)
    context = {**app_detail(inst=inst, eng=eng), "is_admin": request.user.is_admin}
    if request.user.is_admin:  # the uninstall confirmation names what "delete its data" removes
        context["data"] = app_deletable_data(inst=inst, eng=eng)
    return render(request, "apps/manage.html", context)


@member_required
def manage_card(request, pk: int):
    """The status card and the containers' states (polled while the websocket is down)."""
    inst = app_get_for(user=request.user, pk=pk)
    context = {"card": app_card(inst), "containers": app_containers(inst=inst, eng=engine_for(inst))}
    return render(request, "apps/partials/_card_live.html", {**context, "is_admin": request.user.is_admin})


@member_required
def stats(request, pk: int):
    """CPU and memory right now (the page polls it every few seconds)."""
    inst = app_get_for(user=request.user, pk=pk)
    return render(request, "apps/partials/_stats.html", {"stats": app_stats(inst=inst, eng=engine_for(inst))})


@member_required
@require_POST
def control(request, pk: int, action: str):
    """Start, stop or restart; members may only start an app granted to them."""
    inst = app_get_for(user=request.user, pk=pk)
    if action != "start" and not request.user.is_admin:
        return HttpResponse(status=403)
    try:
        app_control(user=request.user, installation=inst, action=action, request=request)
    except InstallError as exc:
        refused(request, exc)
    return back(request, pk)


@admin_required
@require_POST
@sensitive_post_parameters("password", "code")
def remove(request, pk: int):
    """Uninstall; with "also delete this app's data" ticked, only once the password (and code) typed into the
    confirmation checks out: deleting data asks every time, whatever the 15-minute step-up window says."""
    inst = app_get_for(user=request.user, pk=pk)
    delete_data = request.POST.get("delete_data") == "on"
    if delete_data and (problem := stepup_from_post(request)):
        messages.error(request, _("%(problem)s Nothing was removed.") % {"problem": problem})
        return back(request, pk)
    try:
        app_remove(user=request.user, installation=inst, delete_data=delete_data, request=request)
    except InstallError as exc:
        refused(request, exc)
        return back(request, pk)
    messages.info(request, _("%(app)s is being removed.") % {"app": inst})
    return redirect("apps")
