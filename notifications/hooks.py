"""Where the built-in rules hear their events: the storage events, the apps' status, the audit log, start-up.

Each hook turns what happened into one notify() call; a hook never raises into the part that reported the event.
"""

import functools
import logging
from datetime import timedelta

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import AuditEvent, User
from apps.models import AppEvent, AppLock, Installation
from casaos_site.events import listen

from .services import notify, rule_threshold

log = logging.getLogger(__name__)
# An app's status change this soon after a person's operation on it (stop, restart, update) is that operation's.
OPERATION_GRACE = timedelta(seconds=60)
FAILURE_WINDOW = timedelta(minutes=15)  # "a burst of failed logins" counts within this window


def quiet(hook):
    """A hook's failure is logged: the event's own work (a mount check, a login) goes on."""

    @functools.wraps(hook)
    def run(*args, **kwargs):
        try:
            return hook(*args, **kwargs)
        except Exception:
            log.exception("notification hook %s failed", hook.__name__)
            return None

    return run


# ---------------------------------------------------------------------------- storage (events.publish)
@quiet
def on_space_low(event: str, data: dict) -> None:
    threshold = rule_threshold(event)
    if threshold is None or float(data.get("used_percent", 0)) < threshold:
        return
    params = {"name": data.get("name") or data.get("target", ""), "percent": round(float(data["used_percent"]))}
    notify(kind=event, params=params, subject=f"{data.get('kind')}:{data.get('id')}", link="/storage/")


@quiet
def on_health_worse(event: str, data: dict) -> None:
    from storage.models import Disk

    disk = Disk.objects.filter(stable_id=data.get("disk", "")).first()
    name = f"{disk.model or disk.name} ({disk.name})" if disk else data.get("disk", "")
    reasons = "; ".join(data.get("reasons") or [])
    notify(kind=event, params={"disk": name, "reasons": reasons}, subject=data.get("disk", ""), link="/storage/")


listen("storage.space.low", on_space_low)
listen("storage.health.worse", on_health_worse)


# ---------------------------------------------------------------------------- apps (one call in apps/services)
@quiet
def app_status_notify(*, app: Installation, before: str, status: str, detail: str) -> None:
    """Called by the engine-events listener when a settled app's status changed (apps/services/status.py)."""
    S = Installation.Status
    if status == before or _operated(app) or app.restart_loop:
        return  # a person's own operation, or a halted restart loop (said by its own rule)
    link = f"/apps/{app.pk}/"
    if status == S.STOPPED and before in (S.RUNNING, S.DEGRADED):
        notify(kind="apps.stopped", params={"app": app.name}, subject=app.name, link=link)
    elif status == S.DEGRADED:
        notify(kind="apps.unhealthy", params={"app": app.name, "detail": detail}, subject=app.name, link=link)


def _operated(app: Installation) -> bool:
    if AppLock.objects.filter(installation=app).exists():
        return True
    recent = AppEvent.objects.filter(installation=app, created_at__gte=timezone.now() - OPERATION_GRACE)
    return recent.exclude(operation="restart_loop").exists()


@quiet
def app_update_notify(*, app: Installation) -> None:
    """Called by the update check when an app's update became available (apps/services/update.py)."""
    notify(kind="apps.update_available", params={"app": app.name}, subject=app.name, link=f"/apps/{app.pk}/")


@receiver(post_save, sender=AppEvent, dispatch_uid="notifications.app_event")
@quiet
def on_app_event(sender, instance: AppEvent, created: bool, **kwargs) -> None:
    if created and instance.operation == "restart_loop":
        app = instance.installation
        params = {"app": app.name, "detail": instance.message}
        notify(kind="apps.restart_loop", params=params, subject=app.name, link=f"/apps/{app.pk}/")


# ---------------------------------------------------------------------------- accounts (the audit log)
@receiver(post_save, sender=AuditEvent, dispatch_uid="notifications.audit")
@quiet
def on_audit(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    handler = AUDIT_HOOKS.get(instance.action) if created else None
    if handler is not None:
        handler(instance)


def _login_failure(entry: AuditEvent) -> None:
    threshold = rule_threshold("accounts.login_failures")
    since = entry.at - FAILURE_WINDOW
    count = AuditEvent.objects.filter(action="login.failure", at__gte=since, at__lte=entry.at).count()
    if threshold is not None and count >= threshold:
        params = {"count": count, "address": entry.address or "?"}
        notify(kind="accounts.login_failures", params=params, link="/settings/audit/")


def _lockout(entry: AuditEvent) -> None:
    notify(kind="accounts.lockout", params={"target": entry.target}, subject=entry.target, link="/settings/audit/")


def _role(entry: AuditEvent) -> None:
    # A new user's entry says its role ("admin"), a change says both ("member -> admin").
    if str(entry.details.get("role", "")).split("->")[-1].strip() == User.Role.ADMIN:
        notify(kind="accounts.admin_added", params={"user": entry.target}, link="/settings/users/")


def _mfa_removed(entry: AuditEvent) -> None:
    owner = User.objects.filter(username=entry.target).first()
    params = {"user": entry.target}
    notify(kind="accounts.mfa_removed", params=params, users=[owner] if owner else [], link="/settings/audit/")


def _token_created(entry: AuditEvent) -> None:
    params = {"user": entry.actor_name, "token": entry.target, "scope": entry.details.get("scope", "")}
    owner = [entry.actor] if entry.actor else []
    notify(kind="accounts.token_created", params=params, users=owner, link="/settings/tokens/")


AUDIT_HOOKS = {
    "login.failure": _login_failure,
    "lockout.started": _lockout,
    "user.created": _role,
    "user.role_changed": _role,
    "mfa.removed": _mfa_removed,
    "token.created": _token_created,
}
