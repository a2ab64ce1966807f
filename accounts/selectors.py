"""Account reads: who is an admin, who needs MFA, a user's sessions and tokens, the audit log."""

from django.contrib.sessions.models import Session
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import APIToken, AuditEvent, Authenticator, BackupCode, FailureCounter, SiteSecurity, User


def admin_exists() -> bool:
    """Whether first-run setup is over: an active admin exists."""
    return User.objects.filter(role=User.Role.ADMIN, is_active=True).exists()


def active_admin_remains(*, without: list[int]) -> bool:
    """Whether an active admin is left once the users with these ids are demoted, disabled or deleted."""
    return User.objects.filter(role=User.Role.ADMIN, is_active=True).exclude(pk__in=without).exists()


def site_security() -> SiteSecurity:
    """The one row of site-wide security settings (made on first use)."""
    row, _ = SiteSecurity.objects.get_or_create(pk=1)
    return row


def admin_mfa_required() -> bool:
    """'Require MFA for admins': the admin's explicit choice, else on as soon as one admin has enrolled."""
    explicit = site_security().require_admin_mfa
    if explicit is not None:
        return explicit
    return User.objects.filter(role=User.Role.ADMIN, mfa_enabled=True).exists()


def mfa_required_for(user) -> bool:
    """Whether this user must pass an OTP step after the password (or enrol first)."""
    return bool(user.mfa_enabled or (user.is_admin and admin_mfa_required()))


def totp_device_for(user) -> Authenticator | None:
    return Authenticator.objects.devices_for_user(user, confirmed=True).first()


def totp_pending_for(user) -> Authenticator | None:
    """An enrolment started but not yet confirmed by a first code."""
    return Authenticator.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def backup_codes_left(user) -> int:
    return BackupCode.objects.filter(device__user=user, device__confirmed=True).count()


def user_tokens(user) -> QuerySet[APIToken]:
    return APIToken.objects.filter(user=user, revoked_at__isnull=True)


def user_sessions(user) -> QuerySet:
    """The user's sessions that still exist and have not expired, most recently seen first."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return user.tracked_sessions.filter(session_key__in=live)


def locked_account_names() -> set[str]:
    """Account names (lower-cased) locked from some address or waiting out their delays right now."""
    Kind = FailureCounter.Kind
    rows = FailureCounter.objects.filter(
        kind__in=(Kind.ACCOUNT, Kind.CODE, Kind.PAIR), locked_until__gt=timezone.now()
    ).values_list("kind", "key")
    return {key.rsplit(" ", 1)[0] if kind == Kind.PAIR else key for kind, key in rows}


def account_locks(username: str) -> list[FailureCounter]:
    """The locks and delays on an account name right now (from which address, until when), for its admin page."""
    Kind, name = FailureCounter.Kind, username.lower()
    rows = FailureCounter.objects.filter(locked_until__gt=timezone.now()).order_by("locked_until")
    rows = rows.filter(Q(kind__in=(Kind.ACCOUNT, Kind.CODE), key=name) | Q(kind=Kind.PAIR, key__startswith=f"{name} "))
    return [row for row in rows if row.kind != Kind.PAIR or row.key.rsplit(" ", 1)[0] == name]


def users_with_state() -> list[User]:
    """Every user, with `.locked` set when their account name is locked from an address or delayed."""
    locked = locked_account_names()
    users = list(User.objects.order_by("username"))
    for user in users:
        user.locked = user.username.lower() in locked
    return users


def audit_events(*, action: str = "", actor: str = "", limit: int = 200) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("actor")
    if action:
        events = events.filter(action__startswith=action)
    if actor:
        events = events.filter(actor_name=actor)
    return events[:limit]
