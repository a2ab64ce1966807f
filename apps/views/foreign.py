"""Pages for containers we did not create: list, start/stop, adopt as a custom app (admins only)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required
from apps.services.common import InstallError, PolicyError, engine_said
from apps.services.foreign import foreign_adopt, foreign_compose, foreign_control, foreign_get, foreign_list
from apps.views.common import consent_context
from runtime.errors import EngineError


@admin_required
def containers(request):
    """Every container on the engine that is not one of our apps."""
    try:
        found, error = foreign_list(), ""
    except EngineError as exc:
        found, error = [], engine_said(exc)
    return render(request, "apps/containers.html", {"containers": found, "error": error})


@admin_required
@require_POST
def control(request, cid: str, action: str):
    try:
        foreign_control(user=request.user, container_id=cid, action=action, request=request)
    except (InstallError, EngineError) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, InstallError) else engine_said(exc))
    return redirect("apps-containers")


@admin_required
def adopt(request, cid: str):
    """Show the container as a compose document; on confirm, install it as a custom app."""
    try:
        info, compose = foreign_get(container_id=cid), foreign_compose(container_id=cid)
    except (InstallError, EngineError):
        messages.error(request, _("There is no such container, or it belongs to an app."))
        return redirect("apps-containers")
    consent, limits = None, False
    if request.method == "POST":
        try:
            inst = foreign_adopt(
                user=request.user,
                container_id=cid,
                name=request.POST.get("name", "").strip(),
                consent=request.POST.get("consent") == "on",
                override_limits=request.POST.get("override_limits") == "on",
                consent_paths=request.POST.getlist("consent_paths"),
                request=request,
            )
        except InstallError as exc:
            consent = consent_context(request, exc) if isinstance(exc, PolicyError) else None
            limits = exc.code == "limits"  # the page is for admins only: the override is theirs to give
            messages.error(request, " ".join(exc.messages))
        else:
            return redirect("app-detail", pk=inst.pk)
    context = {"container": info, "compose": compose, "consent": consent, "limits": limits}
    return render(request, "apps/adopt.html", context)
