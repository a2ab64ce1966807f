"""Credential failures: hard locks on an (account, address) pair and on an address, progressive delays on an account
(SECURITY.md lessons 7 and 15).

Nobody can lock an account out from elsewhere: failures from every address only slow the account's guessing down
(each further attempt waits longer, up to LOCKOUT_DELAY_MAX seconds), and the right password with its code from
another address gets in once that wait is over. Codes (OTP, backup codes) have a delay of their own, so that guesses
at the password never hold up the code step of someone who knows it. Bad API tokens count in a bucket of their own
per address: a script with a stale token must not lock its owner's login, nor the other tokens from that machine.
"""

import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import FailureCounter

from .audit import audit_coalesce, audit_record

log = logging.getLogger("casaos.lockout")
Kind = FailureCounter.Kind
# No usable peer address (never the case behind daphne): such token failures still share one bucket.
UNKNOWN_ADDRESS = "unknown"
HARD = (Kind.PAIR, Kind.ADDRESS)
THROTTLES = (Kind.ACCOUNT, Kind.CODE)


class LockedOut(Exception):
    """The attempt is refused before any check: a locked pair or address (retry_after None: until the lock ends or
    an admin lifts it), or the account's delay (retry_after: seconds to wait)."""

    def __init__(self, retry_after: int | None = None):
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        if self.retry_after is None:
            return str(_("Too many failed attempts. Try again in a while, or ask an admin to unlock the account."))
        wait = ngettext(
            "Too many failed attempts at this account. Try again in %(n)d second.",
            "Too many failed attempts at this account. Try again in %(n)d seconds.",
            self.retry_after,
        )
        return wait % {"n": self.retry_after}


@dataclass(frozen=True)
class Attempt:
    """Who is tried from where: the account name as typed (known or not, so locks reveal nothing) and the address."""

    username: str | None
    address: str | None

    @property
    def name(self) -> str:
        return (self.username or "").strip().lower()[:200]

    def key(self, kind: str) -> str | None:
        """This attempt's counter key of the kind, or None when the attempt has no such counter."""
        if kind in THROTTLES:
            return self.name or None
        if kind == Kind.PAIR:
            return f"{self.name} {self.address}" if self.name and self.address else None
        return self.address


def _window() -> timedelta:
    return timedelta(seconds=settings.LOCKOUT_SECONDS)


def _threshold(kind: str) -> int:
    limits = {
        Kind.PAIR: settings.LOCKOUT_ACCOUNT_FAILURES,
        Kind.ADDRESS: settings.LOCKOUT_ADDRESS_FAILURES,
        Kind.TOKEN: settings.LOCKOUT_TOKEN_FAILURES,
    }
    return limits.get(kind, settings.LOCKOUT_THROTTLE_AFTER)


def throttle_delay(failures: int) -> int:
    """Seconds an account waits after its n-th failure within the window: 1, 2, 4... up to LOCKOUT_DELAY_MAX."""
    beyond = failures - settings.LOCKOUT_THROTTLE_AFTER
    return 0 if beyond < 0 else min(2 ** min(beyond, 30), settings.LOCKOUT_DELAY_MAX)


def _seconds(until, now) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def lockout_refusal(*, attempt: Attempt, throttle: str | None = Kind.ACCOUNT) -> LockedOut | None:
    """Why this attempt must be refused now (a hard lock first, then the account's delay), or None."""
    now = timezone.now()
    kinds = HARD + ((throttle,) if throttle else ())
    wanted = [Q(kind=kind, key=key) for kind in kinds if (key := attempt.key(kind)) is not None]
    if not wanted:
        return None
    counters = {c.kind: c for c in FailureCounter.objects.filter(reduce(or_, wanted), locked_until__gt=now)}
    if any(kind in counters for kind in HARD):
        return LockedOut()
    if throttle in counters:
        return LockedOut(_seconds(counters[throttle].locked_until, now))
    return None


def _count(*, kind: str, key: str, now) -> tuple[FailureCounter, bool]:
    """Add one failure; return the counter and whether this failure starts a lock (or the account's delays)."""
    counter, _ = FailureCounter.objects.select_for_update().get_or_create(kind=kind, key=key)
    if counter.last_failure_at is None or now - counter.last_failure_at > _window():
        counter.failures = 0
        counter.locked_until = None
    counter.failures += 1
    counter.last_failure_at = now
    if kind in THROTTLES:
        starts = counter.failures == _threshold(kind)
        if counter.failures >= _threshold(kind):
            counter.locked_until = now + timedelta(seconds=throttle_delay(counter.failures))
    else:
        starts = counter.failures >= _threshold(kind) and not counter.is_locked(now)
        if starts:
            counter.locked_until = now + _window()
    counter.save()
    return counter, starts


def _record(*, attempt: Attempt, kinds: tuple[str, ...]) -> list[FailureCounter]:
    """Count one failure in each of the attempt's counters of these kinds; return the counters it starts."""
    now = timezone.now()
    started = []
    with transaction.atomic():
        for kind in kinds:
            key = attempt.key(kind)
            if key is not None:
                counter, starts = _count(kind=kind, key=key, now=now)
                if starts:
                    started.append(counter)
    return started


def _tell(*, started: list[FailureCounter], attempt: Attempt, request) -> None:
    """Tell the admins (the audit log, and the server log) once when a lock or an account's delays begin."""
    for counter in started:
        action = "lockout.throttled" if counter.kind in THROTTLES else "lockout.started"
        details = {"username": attempt.username or "", "kind": counter.kind, "failures": counter.failures}
        audit_record(action=action, request=request, target=counter.key, details=details)
        log.warning("%s %s %s after %d failures", action, counter.kind, counter.key, counter.failures)


def lockout_failure(*, username: str | None, address: str | None, request=None, action: str, throttle=Kind.ACCOUNT):
    """Count a failed credential check (password, code, setup token) toward the pair, the address and the account's
    delays (`throttle`: Kind.ACCOUNT for passwords, Kind.CODE for codes), and audit it."""
    attempt = Attempt(username, address)
    started = _record(attempt=attempt, kinds=HARD + ((throttle,) if throttle else ()))
    audit_record(action=action, request=request, target=username or "", details={"username": username or ""})
    _tell(started=started, attempt=attempt, request=request)


def lockout_refused(*, refusal: LockedOut, username: str | None, address: str | None, request=None) -> None:
    """Count an attempt refused before its check (hammering must not be free): toward the address, and toward the
    pair if that is what is locked; never toward the account's delay, or hammering would hold the owner out."""
    attempt = Attempt(username, address)
    kinds = (Kind.ADDRESS,) if refusal.retry_after else HARD
    started = _record(attempt=attempt, kinds=kinds)
    action = "login.throttled" if refusal.retry_after else "login.refused_locked"
    audit_record(action=action, request=request, target=username or "", details={"username": username or ""})
    _tell(started=started, attempt=attempt, request=request)


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
    return _seconds(counter.locked_until, now)


def lockout_success(*, username: str, address: str | None) -> None:
    """A full, successful login forgets the pair's failures (the address and the account's delays keep theirs: the
    one who got in is not the one who guessed)."""
    key = Attempt(username, address).key(Kind.PAIR)
    FailureCounter.objects.filter(kind=Kind.PAIR, key=key or "").delete()


def _pairs(*, name: str = "", address: str | None = None):
    """The pair counters of an account name, or of an address."""
    pairs = FailureCounter.objects.filter(kind=Kind.PAIR)
    if name:
        return [c.pk for c in pairs.filter(key__startswith=f"{name} ") if c.key.rsplit(" ", 1)[0] == name]
    return [c.pk for c in pairs.filter(key__endswith=f" {address}") if c.key.rsplit(" ", 1)[1] == address]


def _clear_ids(*, username: str | None, address: str | None) -> list[int]:
    name = Attempt(username, None).name
    ids = []
    if name:
        ids += FailureCounter.objects.filter(kind__in=THROTTLES, key=name).values_list("pk", flat=True)
        ids += _pairs(name=name)
    if address:
        buckets = FailureCounter.objects.filter(kind__in=(Kind.ADDRESS, Kind.TOKEN), key=address)
        ids += buckets.values_list("pk", flat=True)
        ids += _pairs(address=address)
    return ids


def lockout_clear(*, username: str | None = None, address: str | None = None, actor=None, request=None) -> int:
    """Lift every lock and delay of an account name (from every address) and/or of an address (its pairs and token
    bucket included): the user's page, the API, `manage.py unlock`."""
    cleared = FailureCounter.objects.filter(pk__in=_clear_ids(username=username, address=address)).delete()[0]
    audit_record(
        actor=actor,
        action="lockout.cleared",
        request=request,
        target=username or address or "",
        details={"counters": cleared},
    )
    return cleared
