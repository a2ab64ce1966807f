"""Apps pages: the installed-apps list, the custom install form and the live install progress view."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required, installer_required, member_required

from .forms import InstallForm, limits_offered
from .models import Installation
from .selectors import app_state
from .selectors_manage import app_get_for, app_visible
from .services import ConsentRequired, InstallError, app_cancel, app_install, app_install_retry, app_uninstall
from .services.common import PolicyError
from .services.policy_words import phrase


def consent_context(request, exc: PolicyError) -> dict:
    """What the consent part of a form shows after a policy refusal: each finding in plain words, the paths to
    name, whether consent was ticked, and whether only a step-up is missing (or no consent is possible at all)."""
    return {
        "findings": [{**f.as_dict(), "phrase": phrase(f.code)} for f in exc.findings],
        "stepup": getattr(exc, "stepup", False),
        "forbidden": exc.code in ("forbidden", "policy"),
        "named": request.POST.getlist("consent_paths"),
        "given": request.POST.get("consent") in ("on", "true", "1"),
    }


def _host(request) -> str:
    """The host name the browser used, for links to an app's own web port."""
    return request.get_host().rsplit(":", 1)[0] if not request.get_host().endswith("]") else request.get_host()


def _state_context(request, inst: Installation) -> dict:
    return {"app": app_state(inst), "is_admin": request.user.is_admin, "host": _host(request)}


@member_required
def index(request):
    """Installed apps with their live status."""
    context = {"apps": [app_state(i) for i in app_visible(user=request.user)], "host": _host(request)}
    template = "apps/partials/_list.html" if request.htmx else "apps/index.html"
    return render(request, template, context)


@installer_required
def install(request):
    """Install from a pasted compose document; the progress page takes over once it is queued."""
    form = InstallForm(request.POST or None)
    consent, code = None, ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inst = app_install(
                user=request.user,
                compose=data["compose"],
                name=data["name"] or None,
                inputs=data["inputs"],
                consent=data["consent"],
                override_limits=data["override_limits"],
                consent_paths=request.POST.getlist("consent_paths"),
                request=request,
            )
        except PolicyError as exc:
            consent = consent_context(request, exc)
            form.add_error(None, exc.messages[0])
        except InstallError as exc:
            code = exc.code
            form.add_error(None, exc.messages[0])
        else:
            return redirect("app-detail", pk=inst.pk)
    limits = limits_offered(request.user, form, code)
    return render(request, "apps/install.html", {"form": form, "consent": consent, "limits": limits})


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
        return _redirect(request, f"{reverse('stepup')}?next={here}" if exc.stepup else here)
    except InstallError as exc:
        messages.error(request, exc.messages[0])
    return _redirect(request, here)


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
        return _redirect(request, reverse("app-detail", args=[pk]))
    messages.info(request, _("%(name)s is being removed.") % {"name": inst})
    return _redirect(request, reverse("apps"))


def _redirect(request, url: str) -> HttpResponse:
    """A full navigation, for htmx and plain form posts alike."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
