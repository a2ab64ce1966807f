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
