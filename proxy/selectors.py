"""Reads of the proxy: its settings, the app addresses, and the plan Caddy's configuration is built from."""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
from html import escape

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.models import Installation

from .host.caddy import root_certificate
from .host.config import ProxyPlan, Site
from .models import AppAddress, ProxySettings

log = logging.getLogger(__name__)


def proxy_domain(row: ProxySettings) -> str:
    """The box's domain: the one chosen, else `<host name>.local` (what mDNS answers for on the LAN)."""
    return row.domain or f"{socket.gethostname().split('.')[0].lower()}.local"


def proxy_scheme_port(row: ProxySettings) -> tuple[str, int]:
    return ("https", settings.PROXY_HTTPS_PORT) if row.https else ("http", settings.PROXY_HTTP_PORT)


def proxy_origin(row: ProxySettings, host: str) -> str:
    """`https://host` with the port only when it is not the scheme's own."""
    scheme, port = proxy_scheme_port(row)
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" if port == default else f"{scheme}://{host}:{port}"


def proxy_admin_url(row: ProxySettings | None = None) -> str:
    row = row or ProxySettings.load()
    return proxy_origin(row, proxy_domain(row))


def address_url(address: AppAddress, row: ProxySettings | None = None) -> str:
    """`https://<name>.<domain>`, or `https://<domain>/<name>/` for an app reached by a path."""
    row = row or ProxySettings.load()
    if address.mode == AppAddress.Mode.PATH:
        return f"{proxy_origin(row, proxy_domain(row))}/{address.name}/"
    return proxy_origin(row, f"{address.name}.{proxy_domain(row)}")


def proxy_secret() -> str:
    """What Caddy sends with every forward-auth and ticket request: derived from the secret key, never stored."""
    return hmac.new(settings.SECRET_KEY.encode(), b"casaos proxy forward auth", hashlib.sha256).hexdigest()


def proxy_root_certificate():
    """The internal CA's root certificate file, or None before Caddy made it."""
    path = root_certificate(settings.PROXY_DIR)
    return path if path.is_file() else None


def proxy_settings_view() -> dict:
    row = ProxySettings.load()
    return {
        "enabled": settings.PROXY,
        "domain": row.domain,
        "domain_in_use": proxy_domain(row),
        "certificate_mode": row.certificate_mode,
        "acme_email": row.acme_email,
        "https": row.https,
        "admin_url": proxy_admin_url(row),
        "root_certificate": proxy_root_certificate() is not None,
        "pushed_at": row.pushed_at,
        "push_error": row.push_error,
    }


def address_view(inst: Installation) -> dict:
    address = AppAddress.objects.filter(installation=inst).first()
    if address is None:
        return {
            "name": "", "mode": AppAddress.Mode.NAME, "require_login": False, "public": False, "url": "",
            "web_port": inst.web_port,
        }  # fmt: skip
    return {
        "name": address.name,
        "mode": address.mode,
        "require_login": address.require_login,
        "public": address.public,
        "url": address_url(address),
        "web_port": inst.web_port,
    }


def _upstream() -> str:
    """Our web server as Caddy dials it: the address it listens on, loopback when it listens on all of them."""
    from system.models import SystemSettings

    bind = SystemSettings.load().web_bind_running or settings.BIND
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def proxy_plan() -> ProxyPlan:
    """Everything Caddy's configuration is built from, read in one go."""
    row = ProxySettings.load()
    addresses = AppAddress.objects.select_related("installation").order_by("name")
    return ProxyPlan(
        domain=proxy_domain(row),
        https=row.https,
        certificate_mode=row.certificate_mode,
        acme_email=row.acme_email,
        upstream=_upstream(),
        admin_socket=settings.PROXY_ADMIN_SOCKET,
        storage=settings.PROXY_DIR,
        secret=proxy_secret(),
        http_port=settings.PROXY_HTTP_PORT,
        https_port=settings.PROXY_HTTPS_PORT,
        listen_host=settings.PROXY_LISTEN,
        sites=[Site(a.name, a.installation.web_port, a.require_login, a.mode, a.public) for a in addresses],
        session_cookie=settings.SESSION_COOKIE_NAME,
        admin_cookies=(settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME),
        lan=proxy_lan(),
        signin_paths=_signin_paths(),
        refused_page=_refused_page(),
    )


def proxy_lan() -> tuple[str, ...] | None:
    """Who may reach the admin (and apps not public) through Caddy: the firewall's LAN and the box itself; None
    (everyone) while the firewall is off, as its port is then open to everyone too (docs/proxy.md)."""
    if not settings.FIREWALL:
        return None
    from firewall.selectors import PRIVATE, firewall_lan
    from storage.host.errors import HostError

    try:
        lan = firewall_lan()
    except HostError as exc:  # the interfaces could not be read: every private range, never the whole Internet
        log.warning("proxy: the LAN could not be read (%s); allowing the private ranges", exc)
        lan = [*PRIVATE, *(n for n in settings.FIREWALL_LAN if n != "auto")]
    return (*(str(net) for net in lan), "127.0.0.1/32", "::1/128")


def _signin_paths() -> tuple[str, ...]:
    """Our login and the hand-over: what a visitor outside the LAN needs to open a public app requiring login."""
    pages = ("login", "login-otp", "logout", "proxy-start", "javascript-catalog", "set_language", "favicon")
    return (*(reverse(page) for page in pages), f"{settings.STATIC_URL}*")


def _refused_page() -> str:
    title = _("Only on the home network")
    text = _("This address answers only on the home network (the LAN, or the box's VPN).")
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>"
    )
