"""Small helpers shared by the account pages (and by confirmations elsewhere that re-check the password)."""

from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.services.lockout import LockedOut
from accounts.services.login import stepup_confirm


def safe_next(request, default: str = "dashboard") -> str:
    """The ?next= target if it stays on this site, else the default page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(default)


def back_to(request, default: str = "dashboard"):
    return redirect(safe_next(request, default))


def stepup_from_post(request) -> str:
    """The step-up re-check a confirmation dialog carries (its `password` and `code` fields), counted and audited
    like the step-up page's. Returns "" when it passed, else why not, in words."""
    password = request.POST.get("password", "")
    if not password:
        return _("Enter your password to confirm.")
    try:
        if stepup_confirm(request=request, password=password, code=request.POST.get("code", "")):
            return ""
    except LockedOut as exc:
        return exc.message
    return _("That password or code is not right.")
