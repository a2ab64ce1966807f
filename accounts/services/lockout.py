"""Lockout after repeated credential failures, per account name and per client address (SECURITY.md lesson 7)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import FailureCounter

from .audit import audit_record

Kind = FailureCounter.Kind


def _keys(*, username: str | None, address: str | None) -> list[tuple[str, str]]:
    keys = []
    if username:
        keys.append((Kind.ACCOUNT, username.strip().lower()[:255]))
    if address:
        keys.append((Kind.ADDRESS, address))
    return keys


def _threshold(kind: str) -> int:
    return settings.LOCKOUT_ACCOUNT_FAILURES if kind == Kind.ACCOUNT else settings.LOCKOUT_ADDRESS_FAILURES


def lockout_is_locked(*, username: str | None = None, address: str | None = None) -> bool:
    """Whether the account name or the address is locked right now."""
    now = timezone.now()
    for kind, key in _keys(username=username, address=address):
        if FailureCounter.objects.filter(kind=kind, key=key, locked_until__gt=now).exists():
            return True
    return False


def _count(*, kind: str, key: str, now) -> bool:
    """Add one failure; return True when this failure starts a lock."""
    window = timedelta(seconds=settings.LOCKOUT_SECONDS)
    counter, _ = FailureCounter.objects.select_for_update().get_or_create(kind=kind, key=key)
    if counter.last_failure_at is None or now - counter.last_failure_at > window:
        counter.failures = 0
    counter.failures += 1
    counter.last_failure_at = now
    starts_lock = counter.failures >= _threshold(kind) and not counter.is_locked(now)
    if starts_lock:
        counter.locked_until = now + window
    counter.save()
    return starts_lock


def lockout_failure(*, username: str | None, address: str | None, request=None, action: str) -> None:
    """Count a failed credential check (password, OTP, setup token, API token) and audit it."""
    now = timezone.now()
    with transaction.atomic():
        started = [
            (kind, key)
            for kind, key in _keys(username=username, address=address)
            if _count(kind=kind, key=key, now=now)
        ]
    details = {"username": username or ""}
    audit_record(action=action, request=request, target=username or "", details=details)
    for kind, key in started:
        audit_record(action="lockout.started", request=request, target=key, details={**details, "kind": kind})


def lockout_success(*, username: str) -> None:
    """A full, successful login forgets the account's earlier failures (the address keeps its count)."""
    FailureCounter.objects.filter(kind=Kind.ACCOUNT, key=username.strip().lower()).delete()


def lockout_clear(*, username: str | None = None, address: str | None = None, actor=None, request=None) -> int:
    """Lift the lock on an account name and/or an address (admin page, `manage.py unlock`)."""
    cleared = 0
    for kind, key in _keys(username=username, address=address):
        cleared += FailureCounter.objects.filter(kind=kind, key=key).delete()[0]
    audit_record(
        actor=actor,
        action="lockout.cleared",
        request=request,
        target=username or address or "",
        details={"counters": cleared},
    )
    return cleared
