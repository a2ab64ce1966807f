"""Lockout after repeated credential failures, per account name and per client address (SECURITY.md lesson 7).

Bad API tokens count in a bucket of their own per address (lesson 15): a script with a stale token must not lock
its owner's password login, nor the other tokens used from the same machine.
"""

import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import FailureCounter

from .audit import audit_coalesce, audit_record

Kind = FailureCounter.Kind
# No usable peer address (never the case behind daphne): such token failures still share one bucket.
UNKNOWN_ADDRESS = "unknown"


def _keys(*, username: str | None, address: str | None) -> list[tuple[str, str]]:
    keys = []
    if username:
        keys.append((Kind.ACCOUNT, username.strip().lower()[:255]))
    if address:
        keys.append((Kind.ADDRESS, address))
    return keys


def _threshold(kind: str) -> int:
    limits = {Kind.ACCOUNT: settings.LOCKOUT_ACCOUNT_FAILURES, Kind.TOKEN: settings.LOCKOUT_TOKEN_FAILURES}
    return limits.get(kind, settings.LOCKOUT_ADDRESS_FAILURES)


def _window() -> timedelta:
    return timedelta(seconds=settings.LOCKOUT_SECONDS)


def lockout_is_locked(*, username: str | None = None, address: str | None = None) -> bool:
    """Whether the account name or the address is locked right now (API tokens have their own bucket)."""
    now = timezone.now()
    for kind, key in _keys(username=username, address=address):
        if FailureCounter.objects.filter(kind=kind, key=key, locked_until__gt=now).exists():
            return True
    return False


def _count(*, kind: str, key: str, now) -> tuple[FailureCounter, bool]:
    """Add one failure; return the counter and whether this failure starts a lock."""
    counter, _ = FailureCounter.objects.select_for_update().get_or_create(kind=kind, key=key)
    if counter.last_failure_at is None or now - counter.last_failure_at > _window():
        counter.failures = 0
    counter.failures += 1
    counter.last_failure_at = now
    starts_lock = counter.failures >= _threshold(kind) and not counter.is_locked(now)
    if starts_lock:
        counter.locked_until = now + _window()
    counter.save()
    return counter, starts_lock


def lockout_failure(*, username: str | None, address: str | None, request=None, action: str) -> None:
    """Count a failed credential check (password, OTP, setup token) and audit it."""
    now = timezone.now()
    with transaction.atomic():
        started = [
            (kind, key)
            for kind, key in _keys(username=username, address=address)
            if _count(kind=kind, key=key, now=now)[1]
        ]
    details = {"username": username or ""}
    audit_record(action=action, request=request, target=username or "", details=details)
    for kind, key in started:
        audit_record(action="lockout.started", request=request, target=key, details={**details, "kind": kind})


def lockout_token_failure(*, address: str | None, request=None) -> int:
    """Count a bad API token once, in its address's token bucket, audited as one entry per window with a count.

    Returns how many seconds bad tokens from the address stay refused when it was already locked (else 0).
    """
    now = timezone.now()
    key = address or UNKNOWN_ADDRESS
    with transaction.atomic():
        counter, started = _count(kind=Kind.TOKEN, key=key, now=now)
        audit_coalesce(action="token.failure", request=request, window=_window(), now=now)
    if started:
        audit_record(action="lockout.started", request=request, target=key, details={"kind": Kind.TOKEN})
    if started or not counter.is_locked(now):
        return 0
    return max(1, math.ceil((counter.locked_until - now).total_seconds()))


def lockout_success(*, username: str) -> None:
    """A full, successful login forgets the account's earlier failures (the address keeps its count)."""
    FailureCounter.objects.filter(kind=Kind.ACCOUNT, key=username.strip().lower()).delete()


def lockout_clear(*, username: str | None = None, address: str | None = None, actor=None, request=None) -> int:
    """Lift the lock on an account name and/or an address, its token bucket included (admin page, `manage.py
    unlock`)."""
    keys = _keys(username=username, address=address) + ([(Kind.TOKEN, address)] if address else [])
    cleared = sum(FailureCounter.objects.filter(kind=kind, key=key).delete()[0] for kind, key in keys)
    audit_record(
        actor=actor,
        action="lockout.cleared",
        request=request,
        target=username or address or "",
        details={"counters": cleared},
    )
    return cleared
