"""User management by admins, and a user's own password change."""

from django.db import transaction
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.selectors import active_admin_remains, user_tokens

from .audit import audit_record
from .sessions import session_keep, sessions_end_all, sessions_sockets_close


class LastAdminError(Exception):
    """The change would leave the home cloud without an active admin."""

    message = gettext_lazy("The home cloud needs at least one active admin.")


def user_guard_last_admin(*, user: User, role: str, is_active: bool) -> None:
    """Raise LastAdminError if giving the user this role and state would leave no active admin."""
    stays_admin = role == User.Role.ADMIN and is_active
    if user.is_admin and not stays_admin and not active_admin_remains(without=[user.pk]):
        raise LastAdminError


def user_create(
    *, actor, username: str, password: str, role: str, email: str = "", may_install_apps: bool = False, request=None
) -> User:
    """Create a user (admins do this in the settings page, the API or the Django admin)."""
    user = User.objects.create_user(
        username=username, email=email, password=password, role=role, may_install_apps=may_install_apps
    )
    audit_record(actor=actor, action="user.created", request=request, target=username, details={"role": role})
    if may_install_apps:
        audit_install_right(actor=actor, user=user, request=request)
    return user


def audit_install_right(*, actor, user: User, request=None) -> None:
    """Record who allowed (or stopped) a member installing apps (the page, the API and the Django admin)."""
    audit_record(
        actor=actor,
        action="user.install_right",
        request=request,
        target=user.username,
        details={"may_install_apps": user.may_install_apps},
    )


def user_update(
    *, actor, user: User, role: str, is_active: bool, email: str, may_install_apps: bool | None = None, request=None
) -> User:
    """Change role, active state, e-mail and the install right (None: unchanged); a disabled user's sessions end
    at once."""
    if may_install_apps is None:
        may_install_apps = user.may_install_apps
    with transaction.atomic():
        user_guard_last_admin(user=user, role=role, is_active=is_active)
        changes = {}
        if role != user.role:
            changes["role"] = f"{user.role} -> {role}"
        if is_active != user.is_active:
            changes["active"] = is_active
        right_changed = may_install_apps != user.may_install_apps
        user.role, user.is_active, user.email, user.may_install_apps = role, is_active, email, may_install_apps
        if role != User.Role.ADMIN:
            user.is_superuser = False
        user.save()
    if not is_active:
        sessions_end_all(user=user)
    elif "role" in changes:
        sessions_sockets_close(user=user)
    if "role" in changes:
        audit_record(
            actor=actor,
            action="user.role_changed",
            request=request,
            target=user.username,
            details={"role": changes["role"]},
        )
    if "active" in changes:
        action = "user.enabled" if is_active else "user.disabled"
        audit_record(actor=actor, action=action, request=request, target=user.username)
    if right_changed:
        audit_install_right(actor=actor, user=user, request=request)
    return user


def user_password_reset(*, actor, user: User, password: str, request=None) -> None:
    """An admin sets a new password for someone; all of that user's sessions end."""
    user.set_password(password)
    user.save(update_fields=["password"])
    sessions_end_all(user=user)
    audit_record(actor=actor, action="user.password_reset", request=request, target=user.username)


def user_delete(*, actor, user: User, request=None) -> None:
    """Delete a user (never the last admin)."""
    with transaction.atomic():
        user_guard_last_admin(user=user, role=User.Role.MEMBER, is_active=False)
        username = user.username
        sessions_end_all(user=user)
        user.delete()
    audit_record(actor=actor, action="user.deleted", request=request, target=username)


def password_change(*, user: User, password: str, request) -> tuple[int, int]:
    """Change one's own password: this session stays, every other session of the user ends, and so do their API
    tokens (as after any password change: accounts.signals). Returns how many sessions and tokens ended."""
    tokens = user_tokens(user).count()
    user.set_password(password)
    user.save(update_fields=["password"])
    # Before the key changes: the current session is known by its old key in the recorded sessions.
    ended = sessions_end_all(user=user, except_key=request.session.session_key)
    session_keep(request=request, user=user)
    audit_record(
        actor=user, action="password.changed", request=request, target=user.username, details={"sessions_ended": ended}
    )
    return ended, tokens
