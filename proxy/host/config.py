"""Caddy's whole JSON configuration, built from plain data (what proxy.selectors reads from the database).

One server: the admin UI at the box's domain (and as the fallback for any other name, e.g. its LAN address), and
one route per app address, `<name>.<domain>`, proxied to the app's published web port. An app that requires our
login first asks our server (forward auth) with a secret header only Caddy knows, and names the app from this
configuration, never from what the visitor sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .caddy import admin_listen

SSO_PATH = "/__casaos_sso/"  # the ticket callback on every app host, answered by our server, never the app
AUTH_PATH = "/proxy/auth/"
SECRET_HEADER = "X-Casaos-Proxy-Secret"
APP_HEADER = "X-Casaos-App"
SSO_COOKIE = "casaos_sso"  # the app session on an app's domain (proxy/sso.py)
USER_HEADER = "X-Casaos-User"  # who our login let in, for the app to read; a visitor's own is removed


@dataclass(frozen=True)
class Site:
    """One app address: `name.<domain>` served from the app's web port on this box."""

    name: str
    port: int | None
    require_login: bool


@dataclass(frozen=True)
class ProxyPlan:
    """Everything the configuration depends on."""

    domain: str
    https: bool
    certificate_mode: str  # "internal" | "acme"
    upstream: str  # our web server, host:port
    admin_socket: Path
    storage: Path
    secret: str
    http_port: int = 80
    https_port: int = 443
    listen_host: str = ""
    acme_email: str = ""
    sites: list[Site] = field(default_factory=list)

    def host(self, name: str) -> str:
        return f"{name}.{self.domain}"


def caddy_config(plan: ProxyPlan) -> dict:
    """The document `POST /load` receives."""
    apps: dict = {"http": _http_app(plan)}
    if plan.https:
        apps["tls"] = _tls_app(plan)
        # Never touch the host's trust store: the Settings page offers the root certificate to install instead.
        apps["pki"] = {"certificate_authorities": {"local": {"name": "CasaOS local CA", "install_trust": False}}}
    return {
        "admin": {"listen": admin_listen(plan.admin_socket), "config": {"persist": False}},
        "storage": {"module": "file_system", "root": str(plan.storage)},
        "logging": {"logs": {"default": {"level": "WARN"}}},
        "apps": apps,
    }


def _http_app(plan: ProxyPlan) -> dict:
    port = plan.https_port if plan.https else plan.http_port
    server: dict = {
        "listen": [f"{plan.listen_host}:{port}"],
        "routes": [*(_site_route(plan, site) for site in plan.sites), *_admin_routes(plan)],
    }
    if not plan.https:
        server["automatic_https"] = {"disable": True}
    return {"http_port": plan.http_port, "https_port": plan.https_port, "servers": {"casaos": server}}


def _tls_app(plan: ProxyPlan) -> dict:
    subjects = [plan.domain, *(plan.host(site.name) for site in plan.sites)]
    if plan.certificate_mode == "acme":
        issuer: dict = {"module": "acme"}
        if plan.acme_email:
            issuer["email"] = plan.acme_email
    else:
        issuer = {"module": "internal"}
    return {"automation": {"policies": [{"subjects": subjects, "issuers": [issuer]}]}}


def _to_us(plan: ProxyPlan, *, headers: dict | None = None, rewrite: dict | None = None) -> dict:
    handler: dict = {"handler": "reverse_proxy", "upstreams": [{"dial": plan.upstream}]}
    if headers:
        handler["headers"] = {"request": {"set": headers}}
    if rewrite:
        handler["rewrite"] = rewrite
    return handler


def _admin_routes(plan: ProxyPlan) -> list[dict]:
    # A visitor may not pose as Caddy: the secret header is removed from everything sent to the admin.
    strip = {"handler": "headers", "request": {"delete": [SECRET_HEADER, APP_HEADER]}}
    return [
        {"match": [{"host": [plan.domain]}], "handle": [strip, _to_us(plan)], "terminal": True},
        {"handle": [strip, _to_us(plan)], "terminal": True},  # the box by its address, or a name we do not know
    ]


def _site_route(plan: ProxyPlan, site: Site) -> dict:
    ours = {SECRET_HEADER: [plan.secret], APP_HEADER: [site.name]}
    # The ticket callback needs no cookie of the app's domain: none is passed to us.
    callback = _to_us(plan, headers=ours)
    callback["headers"]["request"]["delete"] = ["Cookie"]
    sso = {"match": [{"path": [f"{SSO_PATH}*"]}], "handle": [callback], "terminal": True}
    handlers: list[dict] = [{"handler": "headers", "request": {"delete": [USER_HEADER, SECRET_HEADER, APP_HEADER]}}]
    if site.require_login:
        handlers.append(_forward_auth(plan, ours))
    handlers.append(_STRIP_OUR_COOKIE)  # the app never sees our app-session cookie
    handlers.append(_to_app(site))
    return {
        "match": [{"host": [plan.host(site.name)]}],
        "handle": [{"handler": "subroute", "routes": [sso, {"handle": handlers}]}],
        "terminal": True,
    }


_STRIP_OUR_COOKIE = {
    "handler": "headers",
    "request": {"replace": {"Cookie": [{"search_regexp": SSO_COOKIE + r"=[^;]*(;\s*)?", "replace": ""}]}},
}


def _forward_auth(plan: ProxyPlan, ours: dict) -> dict:
    """Caddy's `forward_auth`: ask our server; a 2xx lets the request on (with the user's name), anything else
    (the redirect to our login, a refusal) is what the visitor gets."""
    headers = {
        **ours,
        "X-Forwarded-Method": ["{http.request.method}"],
        "X-Forwarded-Uri": ["{http.request.uri}"],
        # Only our app-session cookie reaches us: the app's own cookies are none of our business (and one named
        # like our session cookie would cost a session lookup on every request).
        "Cookie": [f"{SSO_COOKIE}={{http.request.cookie.{SSO_COOKIE}}}"],
    }
    handler = _to_us(plan, headers=headers, rewrite={"method": "GET", "uri": AUTH_PATH})
    copy_user = {
        "handler": "headers",
        "request": {"set": {USER_HEADER: [f"{{http.reverse_proxy.header.{USER_HEADER}}}"]}},
    }
    handler["handle_response"] = [{"match": {"status_code": [2]}, "routes": [{"handle": [copy_user]}]}]
    return handler


def _to_app(site: Site) -> dict:
    if site.port is None:
        return {"handler": "static_response", "status_code": 503, "body": "This app publishes no web page."}
    # Streams both ways: websockets are upgraded, large uploads are passed on as they arrive, never buffered.
    return {"handler": "reverse_proxy", "upstreams": [{"dial": f"127.0.0.1:{site.port}"}], "flush_interval": -1}
