"""Helpers shared by the apps pages: the consent part of a form, the host the browser used, and a full
navigation after a POST."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from apps.services.common import InstallError, PolicyError
from apps.services.policy_words import phrase


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


def host(request) -> str:
    """The host name the browser used, for links to an app's own web port."""
    host = request.get_host()
    return host if host.endswith("]") else host.rsplit(":", 1)[0]


def back(request, pk: int) -> HttpResponse:
    """After a POST: a full navigation back to the app's page (for htmx and plain forms alike)."""
    return navigate(request, reverse("app-manage", args=[pk]))


def navigate(request, url: str) -> HttpResponse:
    # Forms in live fragments post through htmx (its header carries the CSRF token a websocket render lacks).
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def refused(request, exc: InstallError) -> None:
    """The refusal's reasons as an error message on the next page."""
    messages.error(request, " ".join(exc.messages))


def yaml_error(exc: InstallError) -> dict | None:
    """Where a YAML error is, for the form to show the line with a caret under the column (tabs kept: it lines up)."""
    position = getattr(exc, "position", None)
    if not position:
        return None
    before = position["source_line"][: position["column"] - 1]
    return {**position, "pointer": "".join(c if c == "\t" else " " for c in before) + "^"}
