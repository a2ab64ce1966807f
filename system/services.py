"""Writes for Settings → System: every change checked before any is made, applied through system/host.py, audited."""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.permissions import request_stepped_up
from accounts.services.audit import audit_record

from .host import HostCommandError, hostname_valid
from .models import SystemSettings
from .selectors import host, system_settings_forget

log = logging.getLogger(__name__)
FIELDS = ("hostname", "time_zone", "language", "web_bind", "automount")
HOST_FIELDS = ("hostname", "time_zone", "web_bind")  # they change the host itself: a fresh step-up on every path
POWER_ACTIONS = {"restart": "reboot", "shutdown": "poweroff"}


class SystemRefused(Exception):
    """A change refused with a reason the user reads; `field` names the setting at fault."""

    def __init__(self, message: str, *, field: str = "", code: str = "invalid", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.status = status


# ---------------------------------------------------------------------------- checks
def _refuse_without_stepup() -> None:
    raise SystemRefused(_("This action needs you to confirm your password again (step-up)."), code="stepup", status=403)


def _check_stepped_up(request, asked: dict, current: dict) -> None:
    """Renaming the box, its time zone or its web address needs a fresh step-up (or a full-scope API token), on the
    page, the API and the Network page alike: the check lives here so that no path can skip it."""
    host_changes = [name for name in HOST_FIELDS if name in asked and asked[name] != current.get(name)]
    if host_changes and (request is None or not request_stepped_up(request)):
        _refuse_without_stepup()


def _check_hostname(value: str) -> str:
    if not hostname_valid(value):
        raise SystemRefused(
            _("“%s” is not a valid host name: letters, digits and hyphens, 1 to 63 per dot-separated part.") % value,
            field="hostname",
        )
    return value


def _check_time_zone(value: str) -> str:
    if not host().zone_exists(value):
        raise SystemRefused(_("“%s” is not a known time zone (for example Europe/Berlin).") % value, field="time_zone")
    return value


def _check_language(value: str) -> str:
    if value and value not in dict(settings.LANGUAGES):
        raise SystemRefused(_("“%s” is not a language this site speaks.") % value, field="language")
    return value


def bind_parse(value: str) -> tuple[str, int]:
    """ "HOST:PORT" (or "[v6]:PORT") into its address and port; SystemRefused when malformed."""
    address, sep, port = value.strip().rpartition(":")
    address = address.strip("[]")
    try:
        ipaddress.ip_address(address)
        number = int(port)
    except ValueError:
        number = 0
    if not sep or not 1 <= number <= 65535:
        raise SystemRefused(
            _("Give the web address as ADDRESS:PORT, for example 0.0.0.0:8000 or [::]:8000."), field="web_bind"
        )
    return address, number


def _check_web_bind(value: str, running: str) -> str:
    """The address exists on this host, no app publishes the port, and nothing else listens there."""
    address, port = bind_parse(value)
    if address not in host().addresses():
        raise SystemRefused(_("%s is not an address of this host.") % address, field="web_bind", code="address")
    from apps.selectors import app_claimed_ports

    if owner := app_claimed_ports().get(f"tcp/{port}"):
        raise SystemRefused(
            _("Port %(port)s is published by the app %(app)s.") % {"port": port, "app": owner},
            field="web_bind",
            code="port_in_use",
            status=409,
        )
    if value != running and not host().port_free(address, port):
        raise SystemRefused(
            _("Port %s is in use on this host.") % port, field="web_bind", code="port_in_use", status=409
        )
    return value


def _checked(changes: dict, row: SystemSettings) -> dict:
    """The changes that differ from what is in force, each checked; SystemRefused at the first bad one."""
    running = row.web_bind_running or settings.BIND
    checks = {
        "hostname": _check_hostname,
        "time_zone": _check_time_zone,
        "language": _check_language,
        "web_bind": lambda v: _check_web_bind(v, running),
        "automount": bool,
    }
    return {name: checks[name](value) for name, value in changes.items() if name in checks}


# ---------------------------------------------------------------------------- changes
def system_settings_update(*, user, request=None, **changes) -> dict:
    """Check every change given (a fresh step-up first for those that change the host), then apply them (host name
    and time zone on the host too), each audited."""
    row = SystemSettings.load()
    asked = {k: v for k, v in changes.items() if k in FIELDS}
    current = _in_force(row)
    _check_stepped_up(request, asked, current)
    checked = _checked(asked, row)
    changed = {name: value for name, value in checked.items() if current.get(name) != value}
    with transaction.atomic():
        for name, value in changed.items():
            _APPLY[name](row=row, value=value, user=user, request=request)
        row.save()
        if changed:
            audit_record(actor=user, action="system.settings", request=request, details=changed)
    system_settings_forget()
    return changed


def _in_force(row: SystemSettings) -> dict:
    """What each setting is now: a change to the same value is no change (nothing run, nothing audited)."""
    from storage.models import StorageSettings

    return {
        "hostname": host().hostname(),
        "time_zone": row.time_zone or settings.TIME_ZONE,  # what the page shows as chosen: posting it back is no change
        "language": row.language,
        "web_bind": row.web_bind or row.web_bind_running or settings.BIND,
        "automount": StorageSettings.load().automount,
    }


def _apply_hostname(*, row, value, **_context) -> None:
    _on_host(lambda: host().hostname_set(value))


def _apply_time_zone(*, row, value, **_context) -> None:
    _on_host(lambda: host().time_zone_set(value))
    row.time_zone = value  # the TZ apps get from their next install or change


def _apply_language(*, row, value, **_context) -> None:
    row.language = value


def _apply_web_bind(*, row, value, **_context) -> None:
    row.web_bind = value  # taken by the web server at its next start (manage.py serve)


def _apply_automount(*, value, user, request, **_context) -> None:
    from storage.preferences import storage_settings_update

    storage_settings_update(user=user, request=request, automount=value)


_APPLY = {
    "hostname": _apply_hostname,
    "time_zone": _apply_time_zone,
    "language": _apply_language,
    "web_bind": _apply_web_bind,
    "automount": _apply_automount,
}


def _on_host(change) -> None:
    try:
        change()
    except (HostCommandError, OSError) as exc:
        raise SystemRefused(_("The host refused the change: %s") % exc, code="host", status=503) from exc


def web_bind_for_start() -> str:
    """The address the web server takes now: the admin's choice, unless it cannot be had at this moment (an address
    DHCP took away, a port something else took since): then CASAOS_BIND, so the box stays reachable. Recorded."""
    from .selectors import web_bind

    bind = web_bind()
    if bind != settings.BIND and not _can_listen(bind):
        log.warning(
            "the web address chosen on Settings → System (%s) cannot be used now; using %s", bind, settings.BIND
        )
        bind = settings.BIND
    web_bind_started(bind=bind)
    return bind


def _can_listen(bind: str) -> bool:
    try:
        address, port = bind_parse(bind)
    except SystemRefused:
        return False
    return address in host().addresses() and host().port_free(address, port)


def web_bind_started(*, bind: str) -> None:
    """The web server records the address it took at start: the page shows a choice it has not taken as pending."""
    SystemSettings.load()
    SystemSettings.objects.filter(pk=1).update(web_bind_running=bind)
    system_settings_forget()


# ---------------------------------------------------------------------------- power
def system_power(*, user, request, action: str, confirm: str, stepped_up: bool) -> None:
    """Restart or shut down the box: a fresh step-up and the host name typed; audited before the command runs."""
    if action not in POWER_ACTIONS:
        raise ValueError(action)
    if not stepped_up:
        _refuse_without_stepup()
    name = host().hostname()
    if (confirm or "").strip() != name:
        raise SystemRefused(_("Type the box's name, “%s”, to confirm.") % name, field="confirm", code="confirm")
    audit_record(actor=user, action=f"system.{action}", request=request, target=name)
    _on_host(lambda: host().power(POWER_ACTIONS[action]))
