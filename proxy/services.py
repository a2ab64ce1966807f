"""Writes of the proxy: its settings, app addresses, and pushing Caddy's configuration (every change re-pushes it,
through the `proxy.push` task once the change is committed)."""

from __future__ import annotations

import json
import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services.audit import audit_record
from apps.models import Installation

from .host.caddy import CaddyAdmin, CaddyError
from .host.config import SSO_PATH, caddy_config
from .models import AppAddress, ProxySettings
from .selectors import proxy_plan

log = logging.getLogger(__name__)

LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Names an app may not take: the box's own, and those people expect to mean something else on a domain.
RESERVED = frozenset(
    {"www", "admin", "api", "casaos", "proxy", "login", "auth", "sso", "mail", "smtp", "imap", "vpn", "localhost"}
    | {"wpad", "autoconfig", "autodiscover", "_acme-challenge", "ns", "ns1", "ns2"}
)


class ProxyRefused(Exception):
    """A change refused with a reason the user reads; `field` names the setting at fault."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------- pushing the configuration
def proxy_push() -> None:
    """Build Caddy's whole configuration from the database and load it; record what happened."""
    row = ProxySettings.load()
    try:
        CaddyAdmin(settings.PROXY_ADMIN_SOCKET).load(caddy_config(proxy_plan()))
    except CaddyError as exc:
        log.warning("Caddy refused or missed the configuration: %s", exc)
        ProxySettings.objects.filter(pk=row.pk).update(push_error=str(exc)[:2000])
        raise
    ProxySettings.objects.filter(pk=row.pk).update(pushed_at=timezone.now(), push_error="")


def proxy_refresh() -> bool:
    """Push only when what Caddy runs differs from what the database and the LAN make now (the firewall's periodic
    apply calls this: DHCP may move the box to another subnet, and the admin must follow it). True if pushed."""
    wanted = json.loads(json.dumps(caddy_config(proxy_plan())))
    try:
        running = CaddyAdmin(settings.PROXY_ADMIN_SOCKET).config()
    except CaddyError:
        running = None
    if running == wanted:
        return False
    proxy_push()
    return True


def proxy_push_later() -> None:
    """Queue a push once the current transaction commits (nothing when the proxy is off on this box)."""
    if not settings.PROXY:
        return
    from .tasks import proxy_push_task

    transaction.on_commit(proxy_push_task.delay)


# ---------------------------------------------------------------------------- settings
def _check_domain(value: str) -> str:
    value = value.strip().lower().rstrip(".")
    labels = value.split(".")
    if value and (len(value) > 200 or len(labels) < 2 or not all(LABEL.match(lab) for lab in labels)):
        raise ProxyRefused(
            _("“%(domain)s” is not a domain name: two or more parts such as home.arpa or casa.example.org.")
            % {"domain": value},
            field="domain",
        )
    if value and labels[-1].isdigit():
        raise ProxyRefused(_("Give a name, not an IP address: apps are reached at <app>.<domain>."), field="domain")
    return value


def proxy_settings_update(*, user, request=None, **changes) -> ProxySettings:
    """Change the domain, the certificate mode, the Let's Encrypt contact or HTTPS; then re-push Caddy's config."""
    if "domain" in changes:
        changes["domain"] = _check_domain(changes["domain"])
    with transaction.atomic():
        row = ProxySettings.objects.select_for_update().get(pk=ProxySettings.load().pk)
        for name, value in changes.items():
            setattr(row, name, value)
        if row.certificate_mode == ProxySettings.CertificateMode.ACME and not row.domain:
            raise ProxyRefused(_("Let's Encrypt needs a public domain that points to this box."), field="domain")
        row.save()
        audit_record(actor=user, action="proxy.settings", request=request, details=_public(changes))
        proxy_push_later()
    return row


def _public(changes: dict) -> dict:
    return {key: value for key, value in changes.items() if key != "acme_email"}


# ---------------------------------------------------------------------------- app addresses
def _check_name(name: str, inst: Installation) -> str:
    name = name.strip().lower()
    if not LABEL.match(name):
        raise ProxyRefused(
            _("An address is 1 to 63 lower-case letters, digits and hyphens, not starting or ending with a hyphen."),
            field="name",
        )
    if name in RESERVED:
        raise ProxyRefused(_("“%(name)s” is reserved; choose another address.") % {"name": name}, field="name")
    if AppAddress.objects.filter(name=name).exclude(installation=inst).exists():
        raise ProxyRefused(_("Another app already has the address “%(name)s”.") % {"name": name}, field="name")
    return name


def admin_path_prefixes() -> frozenset[str]:
    """The first path segments our own server answers (its URL patterns, static files, websockets): a path app
    named like one would hide that part of the admin."""
    from django.urls import get_resolver

    found = {settings.STATIC_URL.strip("/").split("/")[0], "ws", SSO_PATH.strip("/")}
    _walk_prefixes(get_resolver().url_patterns, "", found)
    return frozenset(found - {""})


def _walk_prefixes(patterns, prefix: str, found: set[str]) -> None:
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^")
        first = route.split("/")[0]
        if first == "" and hasattr(pattern, "url_patterns"):
            _walk_prefixes(pattern.url_patterns, route, found)
        elif first and not any(c in first for c in "<(["):
            found.add(first.rstrip("$").replace("\\", "").lower())


def _check_mode(mode: str, name: str) -> None:
    """A path of the admin's own origin: never one of our pages' prefixes."""
    if mode == AppAddress.Mode.PATH and name in admin_path_prefixes():
        raise ProxyRefused(
            _("“/%(name)s/” is a page of this admin; choose another address to reach the app by a path.")
            % {"name": name},
            field="name",
        )


def address_update(*, user, installation: Installation, request=None, **changes) -> AppAddress | None:
    """Give an app an address (or change it); an empty name takes it away. Re-pushes Caddy's configuration."""
    current = AppAddress.objects.filter(installation=installation).first()
    if changes.get("name") == "":
        return _address_remove(user=user, request=request, address=current)
    if current is None and not changes.get("name"):
        raise ProxyRefused(_("Choose an address for the app first."), field="name")
    if "name" in changes:
        changes["name"] = _check_name(changes["name"], installation)
    name = changes.get("name") or current.name
    _check_mode(changes.get("mode") or (current.mode if current else AppAddress.Mode.NAME), name)
    try:
        with transaction.atomic():
            address = current or AppAddress(installation=installation)
            for key, value in changes.items():
                setattr(address, key, value)
            address.save()
            audit_record(actor=user, action="proxy.address", request=request, target=installation.name, details=changes)
            proxy_push_later()
    except IntegrityError as exc:  # two requests took the same name at once: the unique index decided
        raise ProxyRefused(_("Another app already has that address."), field="name") from exc
    return address


def _address_remove(*, user, request, address: AppAddress | None) -> None:
    if address is None:
        return
    with transaction.atomic():
        audit_record(actor=user, action="proxy.address.remove", request=request, target=address.installation.name)
        address.delete()  # the post_delete signal re-pushes the configuration
    return
