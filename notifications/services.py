"""The notification centre: notify() (the one entry point every part calls), the rules' settings, read and dismiss."""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from casaos_site.events import publish_on_commit
from casaos_site.i18n import deferred

from .models import Channel, Delivery, Firing, Notification, Rule
from .rules import ADMINS, RULES

log = logging.getLogger(__name__)
CHANGED_EVENT = "notifications.changed"  # a user's list changed: their sockets render the bell again
LIST_LIMIT = 8  # notifications shown in the bell's drop-down


def user_group(user_id: int) -> str:
    """The Channels group of one person's sockets (the bell on every open page)."""
    return f"notifications.user.{user_id}"


# ---------------------------------------------------------------------------- notify
def notify(
    *,
    kind: str,
    params: dict | None = None,
    subject: str = "",
    link: str = "",
    users: Iterable[User] = (),
    roles: Iterable[str] = (ADMINS,),
    severity: str | None = None,
) -> int:
    """Tell the rule's audience about one event (its rule on, its cool-down over); returns how many people.

    `kind` names a rule of rules.py; `params` fill its message (kept untranslated, shown in each reader's
    language); `subject` tells apart what the cool-down counts separately (a disk, an app); `users` and `roles`
    say who hears it (admins by default). Each person gets a row in their bell and a delivery per channel of theirs
    that carries the rule; the deliveries run as tasks, so a slow or failing channel never holds up the caller.
    """
    spec = RULES[kind]
    rule = rule_get(kind)
    if not rule.enabled or not _cooldown_over(rule, subject):
        return 0
    message = deferred(spec.message, **(params or {}))
    targets = _targets(users, roles)
    for user in targets:
        _notify_user(user, kind=kind, severity=severity or spec.severity, message=message, link=link)
    log.info("notify %s subject=%s users=%d", kind, subject or "-", len(targets))
    return len(targets)


def _cooldown_over(rule: Rule, subject: str) -> bool:
    """True when the rule may speak about `subject` now (and marks it spoken); a repeat inside the cool-down is
    counted, not sent: a flapping condition sends one message."""
    now = timezone.now()
    since = now - timedelta(minutes=rule.cooldown_minutes)
    firings = Firing.objects.filter(rule=rule.key, subject=subject[:255])
    if firings.filter(last_at__lte=since).update(last_at=now, suppressed=0):
        return True
    _firing, created = Firing.objects.get_or_create(rule=rule.key, subject=subject[:255], defaults={"last_at": now})
    if created or not rule.cooldown_minutes:
        return True
    firings.update(suppressed=F("suppressed") + 1)
    return False


def _targets(users: Iterable[User], roles: Iterable[str]) -> list[User]:
    """The named people and everyone in the roles, once each, active accounts only."""
    wanted = Q(pk__in=[u.pk for u in users])
    if ADMINS in roles:
        wanted |= Q(role=User.Role.ADMIN) | Q(is_superuser=True)
    return list(User.objects.filter(wanted, is_active=True).order_by("pk"))


def _notify_user(user: User, *, kind: str, severity: str, message: str, link: str) -> None:
    channels = list(Channel.objects.filter(user=user))
    inapp = next((c for c in channels if c.kind == Channel.Kind.INAPP), None)
    if inapp is None or inapp.carries(kind):  # the bell carries every rule until its owner says otherwise
        Notification.objects.create(user=user, kind=kind, severity=severity, message=message, link=link)
        publish_on_commit(user_group(user.pk), CHANGED_EVENT, {"kind": kind})
    for channel in channels:
        if channel.kind != Channel.Kind.INAPP and channel.carries(kind):
            delivery_queue(channel=channel, kind=kind, severity=severity, message=message, link=link)


def delivery_queue(*, channel: Channel, kind: str, severity: str, message: str, link: str = "") -> Delivery:
    """Record a message for one channel and send it from a task once the row is committed."""
    from .tasks import deliver

    delivery = Delivery.objects.create(channel=channel, kind=kind, severity=severity, message=message, link=link)
    transaction.on_commit(lambda: deliver.delay(delivery.pk))
    return delivery


# ---------------------------------------------------------------------------- rules
def rule_get(key: str) -> Rule:
    """The rule's settings row, made with the built-in defaults the first time it is needed."""
    spec = RULES[key]
    defaults = {"threshold": spec.threshold, "cooldown_minutes": spec.cooldown_minutes}
    return Rule.objects.get_or_create(key=key, defaults=defaults)[0]


def rule_threshold(key: str) -> int | None:
    """The rule's threshold, or None when it is off (a hook then has nothing to compare)."""
    rule = rule_get(key)
    return rule.threshold if rule.enabled else None


def rules_update(*, actor: User, changes: list[dict], request=None) -> list[Rule]:
    """Change rules' on/off, threshold and cool-down (admins); each change is audited."""
    with transaction.atomic():
        rules = [_rule_change(rule_get(change["key"]), change) for change in changes]
    for rule in rules:
        details = {"enabled": rule.enabled, "threshold": rule.threshold, "cooldown_minutes": rule.cooldown_minutes}
        audit_record(actor=actor, action="notifications.rule", request=request, target=rule.key, details=details)
    return rules


def _rule_change(rule: Rule, change: dict) -> Rule:
    for field in ("enabled", "threshold", "cooldown_minutes"):
        if field in change and (field != "threshold" or RULES[rule.key].threshold is not None):
            setattr(rule, field, change[field])
    rule.save()
    return rule


# ---------------------------------------------------------------------------- the centre: read, unread, dismiss
def notifications_of(*, user: User, unread: bool = False):
    """A person's notifications, newest first, without the dismissed ones."""
    rows = Notification.objects.filter(user=user, dismissed_at__isnull=True)
    return rows.filter(read_at__isnull=True) if unread else rows


def unread_count(*, user: User) -> int:
    return notifications_of(user=user, unread=True).count()


def notification_mark(*, user: User, pk: int, read: bool = True) -> Notification:
    """Mark one of the person's own notifications read or unread (another's is DoesNotExist: a 404)."""
    note = notifications_of(user=user).get(pk=pk)
    note.read_at = (note.read_at or timezone.now()) if read else None
    note.save(update_fields=["read_at"])
    _changed(user)
    return note


def notification_dismiss(*, user: User, pk: int) -> None:
    """Take one of the person's own notifications out of their list (it is deleted with the old ones later)."""
    now = timezone.now()
    notifications_of(user=user).get(pk=pk)
    Notification.objects.filter(pk=pk).update(dismissed_at=now, read_at=now)
    _changed(user)


def notifications_read_all(*, user: User) -> int:
    count = notifications_of(user=user, unread=True).update(read_at=timezone.now())
    _changed(user)
    return count


def _changed(user: User) -> None:
    publish_on_commit(user_group(user.pk), CHANGED_EVENT, {})


def notifications_cleanup(*, now=None) -> int:
    """Delete notifications, deliveries and cool-down marks older than NOTIFY_KEEP_DAYS (beat, daily)."""
    before = (now or timezone.now()) - timedelta(days=settings.NOTIFY_KEEP_DAYS)
    count = Notification.objects.filter(created_at__lt=before).delete()[0]
    count += Delivery.objects.filter(created_at__lt=before).delete()[0]
    return count + Firing.objects.filter(last_at__lt=before).delete()[0]
