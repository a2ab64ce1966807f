"""Installing apps: the installs list, the one install page (a compose file, pasted or uploaded, or `docker run`
commands), the live progress page, cancel, retry and uninstall from it."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required, installer_required, member_required
from apps.forms import InstallForm, limits_offered, placement_of
from apps.models import Installation
from apps.selectors import app_get_for, app_state, app_visible
from apps.services import ConsentRequired, app_cancel, app_install_retry, app_uninstall
from apps.services.common import InstallError, PolicyError
from apps.services.install import app_install
from apps.views.common import consent_context, host, navigate, yaml_error


def _state_context(request, inst: Installation) -> dict:
    return {"app": app_state(inst), "is_admin": request.user.is_admin, "host": host(request)}


@member_required
def index(request):
    """Installed apps with their live status."""
    context = {"apps": [app_state(i) for i in app_visible(user=request.user)], "host": host(request)}
    template = "apps/partials/_list.html" if request.htmx else "apps/index.html"
    return render(request, template, context)


@installer_required
def install(request):
    """Install from a compose document (pasted or uploaded) or `docker run` commands; the progress page takes over
    once it is queued."""
    form = InstallForm(request.POST or None, request.FILES or None)
    consent, code, where = None, "", None
    if request.method == "POST" and form.is_valid():
        try:
            inst = app_install(
                user=request.user,
                compose=form.compose_text(),
                name=form.cleaned_data["name"] or None,
                inputs=form.cleaned_data["inputs"],
                consent=form.cleaned_data["consent"],
                override_limits=form.cleaned_data["override_limits"],
                consent_paths=request.POST.getlist("consent_paths"),
                placement=placement_of(form),
                request=request,
            )
        except InstallError as exc:
            consent = consent_context(request, exc) if isinstance(exc, PolicyError) else None
            code, where = exc.code, yaml_error(exc)
            form.add_error(None, " ".join(exc.messages))
        else:
            return redirect("app-detail", pk=inst.pk)
    limits = limits_offered(request.user, form, code)
    return render(
        request, "apps/install.html", {"form": form, "consent": consent, "limits": limits, "yaml_error": where}
    )


@installer_required
def custom(request):
    """The custom-app page is the install page now (one page installs from a compose file): its old address leads
    there, a form still posted to it too (308 keeps the method and the body)."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(reverse("app-install") + (f"?{query}" if query else ""), status=308)


@member_required
def detail(request, pk: int):
    """One app: the install steps, a bar per image with bytes, and the result; live over the websocket."""
    inst = app_get_for(user=request.user, pk=pk)  # members: granted apps only
    return render(request, "apps/detail.html", _state_context(request, inst))


@member_required
def state(request, pk: int):
    """The progress fragment alone: what the page polls while its websocket is down."""
    inst = app_get_for(user=request.user, pk=pk)
    return render(request, "apps/partials/_install.html", _state_context(request, inst))


@admin_required
@require_POST
def cancel(request, pk: int):
    """Cancel an install in progress; the fragment shows it cancelling."""
    inst = get_object_or_404(Installation, pk=pk)
    try:
        inst = app_cancel(user=request.user, installation=inst, request=request)
    except InstallError as exc:
        messages.error(request, exc.messages[0])
    return render(request, "apps/partials/_install.html", _state_context(request, inst))


@admin_required
@require_POST
def retry(request, pk: int):
    """Queue a failed or cancelled install again with the settings it was asked with; its progress page follows."""
    inst = get_object_or_404(Installation, pk=pk)
    here = reverse("app-detail", args=[pk])
    try:
        app_install_retry(user=request.user, installation=inst, request=request)
    except ConsentRequired as exc:  # host access it was granted: the password again first
        messages.warning(request, exc.messages[0])
        return navigate(request, f"{reverse('stepup')}?next={here}" if exc.stepup else here)
    except InstallError as exc:
        messages.error(request, exc.messages[0])
    return navigate(request, here)


@admin_required
@require_POST
def uninstall(request, pk: int):
    """Remove the app's containers and networks, keeping its data; back to the list. (Deleting the data too is on
    the app's own page, behind a confirmation that names it and asks for the password.)"""
    inst = get_object_or_404(Installation, pk=pk)
    try:
        app_uninstall(user=request.user, installation=inst, request=request)
    except InstallError as exc:
        messages.error(request, exc.messages[0])
        return navigate(request, reverse("app-detail", args=[pk]))
    messages.info(request, _("%(name)s is being removed.") % {"name": inst})
    return navigate(request, reverse("apps"))
