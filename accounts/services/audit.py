"""The audit log: one function every app calls for security-relevant events."""

import logging

from accounts.models import AuditEvent
from accounts.net import client_address

log = logging.getLogger("casaos.audit")

# Keys that could carry a secret are dropped whatever the caller passes (lesson: logs leak).
SECRET_SUFFIXES = ("password", "secret", "token", "digest")
SECRET_NAMES = {"code", "otp", "key", "otp_code", "backup_code"}


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith(SECRET_SUFFIXES) or lowered in SECRET_NAMES


def _clean(details: dict | None) -> dict:
    if not details:
        return {}
    return {
        str(k): v if isinstance(v, str | int | float | bool | type(None)) else str(v)
        for k, v in details.items()
        if not _is_secret(str(k))
    }


def _actor(actor, request):
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    return actor if getattr(actor, "is_authenticated", False) else None


def audit_record(*, actor=None, action: str, request=None, target: str = "", details: dict | None = None) -> AuditEvent:
    """Record a security-relevant event (login, install, storage action...). Never pass secrets in details."""
    user = _actor(actor, request)
    event = AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else (details or {}).get("username", "")[:150],
        action=action,
        target=str(target)[:255],
        address=client_address(request) if request is not None else None,
        details=_clean(details),
    )
    log.info("audit %s actor=%s target=%s address=%s", action, event.actor_name or "-", event.target, event.address)
    return event
