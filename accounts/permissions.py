"""The one place role checks live: a DRF permission class / view decorator pair, and the websocket check."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission


def user_is_allowed(user) -> bool:
    """A user who may reach anything behind the login at all."""
    return bool(user and user.is_authenticated and user.is_active)


def user_is_admin(user) -> bool:
    return user_is_allowed(user) and user.is_admin


class IsMember(BasePermission):
    """Any logged-in, active user (members and admins)."""

    def has_permission(self, request, view) -> bool:
        return user_is_allowed(request.user)


class IsAdmin(BasePermission):
    """Admins only."""

    message = "This needs an administrator."

    def has_permission(self, request, view) -> bool:
        return user_is_admin(request.user)


def member_required(view):
    """Page/fragment decorator: any logged-in user."""
    return login_required(view)


def admin_required(view):
    """Page/fragment decorator: admins only (403 for members, login redirect for anonymous)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not user_is_admin(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def scope_user_allowed(scope) -> bool:
    """Websocket consumers call this on connect (middleware does not run for websockets)."""
    return user_is_allowed(scope.get("user"))


# ---------------------------------------------------------------------------- step-up ("sudo mode")
# Dangerous actions need a password/OTP re-check within STEPUP_SECONDS. The session key holds its time.
STEPUP_SESSION_KEY = "casaos_stepup_at"
STEPUP_SECONDS = 15 * 60


def stepup_is_fresh(request) -> bool:
    import time

    stamp = request.session.get(STEPUP_SESSION_KEY) if hasattr(request, "session") else None
    return bool(stamp) and time.time() - float(stamp) < STEPUP_SECONDS


class StepUpRequired(BasePermission):
    """DRF: the user re-entered their password (and OTP) within the last 15 minutes."""

    message = "This action needs you to confirm your password again (step-up)."

    def has_permission(self, request, view) -> bool:
        return stepup_is_fresh(request)


def stepup_required(view):
    """Page decorator: send the user to the step-up page first, then back."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not stepup_is_fresh(request):
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path(), login_url="stepup")
        return view(request, *args, **kwargs)

    return wrapper
