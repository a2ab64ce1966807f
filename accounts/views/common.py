"""Small helpers shared by the account pages."""

from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, default: str = "dashboard") -> str:
    """The ?next= target if it stays on this site, else the default page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(default)


def back_to(request, default: str = "dashboard"):
    return redirect(safe_next(request, default))
