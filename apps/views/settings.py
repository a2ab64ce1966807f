"""An app's settings: env, ports, volumes, restart policy and limits (or the raw compose), who sees it, and its
export as a compose file."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.permissions import admin_required
from apps.forms import SettingsForm, limits_offered
from apps.selectors import app_card, app_get_for, grants_of
from apps.services.common import InstallError, PolicyError
from apps.services.export import app_export
from apps.services.settings_edit import app_settings_change, service_settings
from apps.services.visibility import app_grants_set
from apps.views.common import back, consent_context, yaml_error


@admin_required
def settings_page(request, pk: int):
    """Edit env, ports, volumes, restart policy and limits per service, or the raw compose (advanced)."""
    inst = app_get_for(user=request.user, pk=pk)
    current = service_settings(inst.compose)
    form = SettingsForm(request.POST or None, services=current, compose=inst.compose)
    consent, code, where = None, "", None
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
            code, where = exc.code, yaml_error(exc)
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.info(request, _("Applying the new settings; the previous ones come back if the app fails."))
            return back(request, pk)
    context = {
        "card": app_card(inst),
        "form": form,
        "consent": consent,
        "limits": limits_offered(request.user, form, code),
        "yaml_error": where,
    }
    return render(request, "apps/settings.html", context)


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
        return back(request, pk)
    return render(
        request, "apps/grants.html", {"card": app_card(inst), "members": members, "granted": set(grants_of(inst=inst))}
    )


@admin_required
def export(request, pk: int):
    """The app as a compose file `docker compose up` accepts."""
    inst = app_get_for(user=request.user, pk=pk)
    response = HttpResponse(app_export(installation=inst), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{inst.name}-compose.yaml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
