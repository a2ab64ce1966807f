"""The one place role checks live: a DRF permission class / view decorator pair, and the websocket check.

Every check also requires that no MFA step is outstanding: a session that has given the password but not
yet its OTP code reaches nothing (SECURITY.md lesson 9). AccountsMiddleware enforces the same for every
URL; the checks here keep each page, endpoint and consumer safe on its own.
"""

import time
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.permissions import SAFE_METHODS, BasePermission

# Set at password login when an OTP step (or, for admins made to, an enrolment) must follow.
MFA_PENDING_SESSION_KEY = "casaos_mfa_pending"


def user_is_allowed(user) -> bool:
    """A user who may reach anything behind the login at all."""
    return bool(user and user.is_authenticated and user.is_active)


def user_is_admin(user) -> bool:
    return user_is_allowed(user) and user.is_admin


# Installing changes the machine: an admin, or a member an admin allowed to ("may install apps", off by default).
# Host access (the risk report's high flags) needs an admin whatever the member may do.
INSTALL_REFUSED = gettext_lazy(
    "Installing apps needs an administrator, or a member an administrator allowed to install apps."
)


def user_may_install(user) -> bool:
    return user_is_allowed(user) and user.can_install


def session_mfa_satisfied(user, session) -> bool:
    """No OTP step outstanding in this session. Reads only the loaded user and session: safe in an event loop."""
    if session is None:
        return True
    if session.get(MFA_PENDING_SESSION_KEY):
        return False
    return not (getattr(user, "mfa_enabled", False) and not session.get(DEVICE_ID_SESSION_KEY))


def request_token(request):
    """The API token that authenticated a DRF request, if any."""
    from .models import APIToken

    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, APIToken) else None


def request_mfa_satisfied(request) -> bool:
    # An API token was created in a verified session and stands on its own; it carries no session.
    if request_token(request) is not None:
        return True
    return session_mfa_satisfied(request.user, getattr(request, "session", None))


class IsMember(BasePermission):
    """Any logged-in, active, MFA-verified user (members and admins)."""

    def has_permission(self, request, view) -> bool:
        return user_is_allowed(request.user) and request_mfa_satisfied(request)


class IsAdmin(BasePermission):
    """Admins only."""

    message = gettext_lazy("This needs an administrator.")

    def has_permission(self, request, view) -> bool:
        return user_is_admin(request.user) and request_mfa_satisfied(request)


class CanInstall(BasePermission):
    """Admins, and members allowed to install apps."""

    message = INSTALL_REFUSED

    def has_permission(self, request, view) -> bool:
        return user_may_install(request.user) and request_mfa_satisfied(request)


class IsReadOrAdmin(BasePermission):
    """Members may read, admins may also write (lists that everyone sees but only admins change)."""

    def has_permission(self, request, view) -> bool:
        allowed = user_is_allowed(request.user) and request_mfa_satisfied(request)
        return allowed and (request.method in SAFE_METHODS or request.user.is_admin)


def _mfa_step_url(request) -> str:
    return reverse("login-otp") + "?" + urlencode({"next": request.get_full_path()})


def member_required(view):
    """Page/fragment decorator: any logged-in user."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request_mfa_satisfied(request):
            return redirect(_mfa_step_url(request))
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    """Page/fragment decorator: admins only (403 for members, login redirect for anonymous)."""

    @member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not user_is_admin(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def installer_required(view):
    """Page decorator: admins and members allowed to install apps (403 with the reason for other members)."""

    @member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not user_may_install(request.user):
            raise PermissionDenied(INSTALL_REFUSED)
        return view(request, *args, **kwargs)

    return wrapper


def scope_user_allowed(scope) -> bool:
    """Websocket consumers call this on connect and per event (middleware does not run for websockets).

    Refuses anonymous and disabled users, and sessions that gave the password but not the OTP code.
    """
    user = scope.get("user")
    return user_is_allowed(user) and session_mfa_satisfied(user, scope.get("session"))


# ---------------------------------------------------------------------------- step-up ("sudo mode")
# Dangerous actions need a password/OTP re-check within STEPUP_SECONDS. The session key holds its time.
STEPUP_SESSION_KEY = "casaos_stepup_at"
STEPUP_SECONDS = 15 * 60


def stepup_is_fresh(request) -> bool:
    stamp = request.session.get(STEPUP_SESSION_KEY) if hasattr(request, "session") else None
    return bool(stamp) and time.time() - float(stamp) < STEPUP_SECONDS


def request_stepped_up(request) -> bool:
    """The user re-entered their password (and OTP) within the last 15 minutes, or calls with a full-scope API
    token: it was made in a verified session for this very purpose. Services check it through this."""
    token = request_token(request)
    if token is not None:
        return token.scope == token.Scope.FULL
    return stepup_is_fresh(request)


class StepUpRequired(BasePermission):
    """DRF: request_stepped_up (a fresh step-up in the session, or a full-scope API token)."""

    message = gettext_lazy("This action needs you to confirm your password again (step-up).")

    def has_permission(self, request, view) -> bool:
        return request_stepped_up(request)


def _stepup_url(request) -> str:
    htmx = getattr(request, "htmx", None)
    # After the re-check the user returns to the page they were on (a POST or fragment URL is no place to land).
    if htmx and htmx.current_url_abs_path:
        back = htmx.current_url_abs_path
    elif request.method == "GET":
        back = request.get_full_path()
    else:
        back = reverse("settings")
    return reverse("stepup") + "?" + urlencode({"next": back})


def stepup_required(view):
    """Page decorator: send the user to the step-up page first, then back."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not stepup_is_fresh(request):
            url = _stepup_url(request)
            if getattr(request, "htmx", None):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
        return view(request, *args, **kwargs)

    return wrapper
