"""The audit log: one function every app calls for security-relevant events."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

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


def _django_request(request):
    # A DRF request's `.user` runs its authenticators: read inside one (a bad API token is audited there), it would
    # authenticate again, and again. The Django request underneath holds whoever is known so far.
    return getattr(request, "_request", request)


def _actor(actor, request):
    if actor is None and request is not None:
        actor = getattr(_django_request(request), "user", None)
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


def audit_coalesce(
    *, action: str, request=None, target: str = "", window: timedelta, now: datetime | None = None
) -> AuditEvent:
    """Record an event that comes in floods (bad API tokens): repeats from the same address within `window` of the
    entry's first one add to its `count` and `last_at` instead of adding rows (and log lines)."""
    now = now or timezone.now()
    address = client_address(request) if request is not None else None
    with transaction.atomic():
        event = (
            AuditEvent.objects.select_for_update()
            .filter(action=action, address=address, target=str(target)[:255], at__gte=now - window)
            .first()
        )
        if event is None:
            return audit_record(
                action=action, request=request, target=target, details={"count": 1, "last_at": now.isoformat()}
            )
        event.details = {**event.details, "count": int(event.details.get("count", 1)) + 1, "last_at": now.isoformat()}
        event.save(update_fields=["details"])
    return event
