"""Pages for installed apps: tiles, open, detail with controls and live figures, logs, terminal, settings,
updates, export, uninstall, grants. Each view is a few lines around a service or selector."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.middleware import csp_style_attributes
from accounts.permissions import admin_required, installer_required, member_required, stepup_required
from accounts.views.common import stepup_from_post
from runtime.errors import EngineError

from .forms import limits_offered
from .forms_manage import CustomAppForm, SettingsForm
from .models import Installation
from .selectors_manage import (
    app_card,
    app_container_of,
    app_containers,
    app_detail,
    app_get_for,
    app_open_url,
    app_services,
    app_stats,
    app_tiles,
    grants_of,
)
from .services.common import InstallError, PolicyError, engine
from .services.control import app_control
from .services.export import app_export
from .services.settings_edit import app_settings_change, service_settings
from .services.uninstall import app_deletable_data, app_remove
from .services.update import app_hold, app_update_all, app_update_check, app_update_start
from .services.visibility import app_grants_set, tile_hide, tiles_reorder
from .views import consent_context


def _host(request) -> str:
    host = request.get_host()
    return host if host.endswith("]") else host.rsplit(":", 1)[0]


def _back(request, pk: int) -> HttpResponse:
    """After a POST: a full navigation back to the app's page (for htmx and plain forms alike)."""
    return _navigate(request, reverse("app-manage", args=[pk]))


def _navigate(request, url: str) -> HttpResponse:
    # Forms in live fragments post through htmx (its header carries the CSRF token a websocket render lacks).
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def log_lines(value: str | None, *, default: int) -> int:
    """A line count from a query string, kept between 1 and APPS_LOG_TAIL_MAX (garbage means the default)."""
    try:
        return max(1, min(int(value or default), settings.APPS_LOG_TAIL_MAX))
    except ValueError:
        return default


def _refused(request, exc: InstallError) -> None:
    messages.error(request, " ".join(exc.messages))


# ---------------------------------------------------------------------------- tiles
@member_required
def home(request):
    """The apps page: a tile per app this user may see, in their order; live status over the websocket."""
    show_hidden = request.GET.get("hidden") == "1"
    context = {"tiles": app_tiles(user=request.user, show_hidden=show_hidden), "show_hidden": show_hidden}
    return render(request, "apps/home.html" if not request.htmx else "apps/partials/_tiles.html", context)


@member_required
@require_POST
def tiles_order(request):
    """Save the order the user dragged the tiles into (ids, comma separated)."""
    ids = [int(v) for v in request.POST.get("order", "").split(",") if v.strip().isdigit()]
    tiles_reorder(user=request.user, order=ids)
    return HttpResponse(status=204)


@member_required
@require_POST
def tile_visibility(request, pk: int):
    inst = app_get_for(user=request.user, pk=pk)
    tile_hide(user=request.user, installation=inst, hidden=request.POST.get("hidden") == "1")
    return _navigate(request, reverse("apps") + ("?hidden=1" if request.POST.get("hidden") != "1" else ""))


# ---------------------------------------------------------------------------- open
@member_required
def app_open(request, pk: int):
    """Running: straight to its web UI. Stopped: offer to start it, then wait on this page until it answers."""
    inst = app_get_for(user=request.user, pk=pk)
    url = app_open_url(inst=inst, request_host=_host(request))
    if inst.status == Installation.Status.RUNNING and url:
        return redirect(url)
    if request.method == "POST":
        try:
            app_control(user=request.user, installation=inst, action="start", request=request)
        except InstallError as exc:
            _refused(request, exc)
    return render(request, "apps/open.html", {"card": app_card(inst), "url": url})


@member_required
def app_open_state(request, pk: int):
    """Polled by the open page: redirects the browser once the app runs (its start waited for the web port)."""
    inst = app_get_for(user=request.user, pk=pk)
    url = app_open_url(inst=inst, request_host=_host(request))
    if inst.status == Installation.Status.RUNNING and url and not app_card(inst)["operation"]:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return render(request, "apps/partials/_open_state.html", {"card": app_card(inst)})


# ---------------------------------------------------------------------------- detail and control
@member_required
def manage(request, pk: int):
    """One app: status, controls, containers (ports, volumes, env with secrets masked), updates, history."""
    inst = app_get_for(user=request.user, pk=pk)
    eng = engine()
    context = {**app_detail(inst=inst, eng=eng), "is_admin": request.user.is_admin}
    if request.user.is_admin:  # the uninstall confirmation names what "delete its data" removes
        context["data"] = app_deletable_data(inst=inst, eng=eng)
    return render(request, "apps/manage.html", context)


@member_required
def manage_card(request, pk: int):
    """The status card and the containers' states (polled while the websocket is down)."""
    inst = app_get_for(user=request.user, pk=pk)
    context = {"card": app_card(inst), "containers": app_containers(inst=inst, eng=engine())}
    return render(request, "apps/partials/_card_live.html", {**context, "is_admin": request.user.is_admin})


@member_required
def stats(request, pk: int):
    """CPU and memory right now (the page polls it every few seconds)."""
    inst = app_get_for(user=request.user, pk=pk)
    return render(request, "apps/partials/_stats.html", {"stats": app_stats(inst=inst, eng=engine())})


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
        _refused(request, exc)
    return _back(request, pk)


# ---------------------------------------------------------------------------- logs and terminal
@admin_required
def logs(request, pk: int):
    inst = app_get_for(user=request.user, pk=pk)
    return render(
        request,
        "apps/logs.html",
        {"card": app_card(inst), "services": app_services(inst=inst), "max_lines": settings.APPS_LOG_TAIL_MAX},
    )


@admin_required
def logs_download(request, pk: int):
    """The last N lines of one service as a text file."""
    inst = app_get_for(user=request.user, pk=pk)
    service = request.GET.get("service", "")
    lines = log_lines(request.GET.get("lines"), default=1000)
    try:
        container = app_container_of(inst=inst, service=service, eng=engine())
        stream = engine().logs(container, tail=lines, timestamps=True)
    except EngineError as exc:
        return HttpResponse(exc.message, status=404, content_type="text/plain")
    response = StreamingHttpResponse((line + "\n" for line in stream), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{inst.name}-{service}.log"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@admin_required
@stepup_required
@csp_style_attributes
def terminal(request, pk: int):
    inst = app_get_for(user=request.user, pk=pk)
    return render(request, "apps/terminal.html", {"card": app_card(inst), "services": app_services(inst=inst)})


# ---------------------------------------------------------------------------- settings
@admin_required
def settings_page(request, pk: int):
    """Edit env, ports, volumes, restart policy and limits per service, or the raw compose (advanced)."""
    inst = app_get_for(user=request.user, pk=pk)
    current = service_settings(inst.compose)
    form = SettingsForm(request.POST or None, services=current, compose=inst.compose)
    consent, code = None, ""
    if request.method == "POST" and form.is_valid():
        try:
            app_settings_change(
                user=request.user,
                installation=inst,
                edits=form.edits(),
                compose=form.raw_compose(),
                consent=form.cleaned_data.get("consent", False),
                override_limits=form.cleaned_data.get("override_limits", False),
                consent_paths=request.POST.getlist("consent_paths"),
                request=request,
            )
        except InstallError as exc:
            consent = consent_context(request, exc) if isinstance(exc, PolicyError) else None
            code = exc.code
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.info(request, _("Applying the new settings; the previous ones come back if the app fails."))
            return _back(request, pk)
    context = {
        "card": app_card(inst),
        "form": form,
        "consent": consent,
        "limits": limits_offered(request.user, form, code),
    }
    return render(request, "apps/settings.html", context)


# ---------------------------------------------------------------------------- updates
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
            request=request,
        )
    except InstallError as exc:
        _refused(request, exc)
    return _back(request, pk)


@admin_required
@require_POST
def update_check(request, pk: int):
    inst = app_get_for(user=request.user, pk=pk)
    try:
        state = app_update_check(installation=inst, force=True)
    except EngineError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, state.reason or _("%(app)s is up to date.") % {"app": inst})
    return _back(request, pk)


@admin_required
@require_POST
def hold(request, pk: int):
    inst = app_get_for(user=request.user, pk=pk)
    app_hold(user=request.user, installation=inst, held=request.POST.get("held") == "1", request=request)
    return _back(request, pk)


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


# ---------------------------------------------------------------------------- export, uninstall, grants
@admin_required
def export(request, pk: int):
    """The app as a compose file `docker compose up` accepts."""
    inst = app_get_for(user=request.user, pk=pk)
    response = HttpResponse(app_export(installation=inst), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{inst.name}-compose.yaml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


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
        return _back(request, pk)
    try:
        app_remove(user=request.user, installation=inst, delete_data=delete_data, request=request)
    except InstallError as exc:
        _refused(request, exc)
        return _back(request, pk)
    messages.info(request, _("%(app)s is being removed.") % {"app": inst})
    return redirect("apps")


@admin_required
def grants(request, pk: int):
    """Which members see this app."""
    from django.contrib.auth import get_user_model

    inst = app_get_for(user=request.user, pk=pk)
    members = get_user_model().objects.filter(is_active=True, role="member").order_by("username")
    if request.method == "POST":
        chosen = [int(v) for v in request.POST.getlist("members") if v.isdigit()]
        app_grants_set(user=request.user, installation=inst, member_ids=chosen, request=request)
        messages.info(request, _("Saved who sees %(app)s.") % {"app": inst})
        return _back(request, pk)
    return render(
        request, "apps/grants.html", {"card": app_card(inst), "members": members, "granted": set(grants_of(inst=inst))}
    )


# ---------------------------------------------------------------------------- custom apps
@installer_required
def custom(request):
    """Paste or upload a compose file, or paste `docker run` commands; installed like any app."""
    form = CustomAppForm(request.POST or None, request.FILES or None)
    consent, code = None, ""
    if request.method == "POST" and form.is_valid():
        from .services.install import app_install

        try:
            inst = app_install(
                user=request.user,
                compose=form.compose_text(),
                name=form.cleaned_data["name"] or None,
                consent=form.cleaned_data["consent"],
                override_limits=form.cleaned_data["override_limits"],
                consent_paths=request.POST.getlist("consent_paths"),
                request=request,
            )
        except InstallError as exc:
            consent = consent_context(request, exc) if isinstance(exc, PolicyError) else None
            code = exc.code
            form.add_error(None, " ".join(exc.messages))
        else:
            return redirect("app-detail", pk=inst.pk)
    limits = limits_offered(request.user, form, code)
    return render(request, "apps/custom.html", {"form": form, "consent": consent, "limits": limits})
