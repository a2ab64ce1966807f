"""Caddy's whole JSON configuration, built from plain data (what proxy.selectors reads from the database).

One server: the admin UI at the box's domain (and as the fallback for any other name, e.g. its LAN address), and
one route per app address, `<name>.<domain>` or the path `/<name>/` in front of the admin's own routes, proxied to
the app's published web port. An app that requires our login first asks our server (forward auth) with a secret
header only Caddy knows, and names the app from this configuration, never from what the visitor sent.

With `lan` given (the firewall is on), the admin and every app that is not public answer only clients of those
networks (Caddy's `remote_ip`: the connection's own address, never a forwarded header); others get a 403 page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .caddy import admin_listen

SSO_PATH = "/__casaos_sso/"  # the ticket callback on every app host, answered by our server, never the app
AUTH_PATH = "/proxy/auth/"
SECRET_HEADER = "X-Casaos-Proxy-Secret"
APP_HEADER = "X-Casaos-App"
SSO_COOKIE = "casaos_sso"  # the app session on an app's domain (proxy/sso.py)
USER_HEADER = "X-Casaos-User"  # who our login let in, for the app to read; a visitor's own is removed
SESSION_HEADER = "X-Casaos-Session"  # a path app's forward auth: the admin session's key, never as a cookie
OURS = [USER_HEADER, SECRET_HEADER, APP_HEADER, SESSION_HEADER]  # removed from whatever a visitor sends


@dataclass(frozen=True)
class Site:
    """One app address: `name.<domain>` (mode "name") or `<domain>/name/` (mode "path") served from the app's web
    port on this box."""

    name: str
    port: int | None
    require_login: bool
    mode: str = "name"
    public: bool = False

    @property
    def by_path(self) -> bool:
        return self.mode == "path"


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
    session_cookie: str = "sessionid"
    admin_cookies: tuple[str, ...] = ("sessionid", "csrftoken")  # never passed to a path app on our origin
    lan: tuple[str, ...] | None = None  # CIDRs the admin (and apps not public) answer; None: everyone
    signin_paths: tuple[str, ...] = ()  # open beyond the LAN when a public app requires our login
    refused_page: str = "This address answers only on the home network."

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
        "routes": [
            *(_site_route(plan, site) for site in plan.sites if not site.by_path),
            *(_path_route(plan, site) for site in plan.sites if site.by_path),
            *_admin_routes(plan),
        ],
    }
    if not plan.https:
        server["automatic_https"] = {"disable": True}
    return {"http_port": plan.http_port, "https_port": plan.https_port, "servers": {"casaos": server}}


def _tls_app(plan: ProxyPlan) -> dict:
    subjects = [plan.domain, *(plan.host(site.name) for site in plan.sites if not site.by_path)]
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
    strip = {"handler": "headers", "request": {"delete": [SECRET_HEADER, APP_HEADER, SESSION_HEADER]}}
    routes = []
    if plan.lan is not None:
        if plan.signin_paths and any(site.public and site.require_login for site in plan.sites):
            # Someone outside may sign in for a public app that requires our login; nothing else of the admin.
            routes.append(
                {"match": [{"path": list(plan.signin_paths)}], "handle": [strip, _to_us(plan)], "terminal": True}
            )
        routes.append(_lan_guard(plan))
    return [
        *routes,
        {"match": [{"host": [plan.domain]}], "handle": [strip, _to_us(plan)], "terminal": True},
        {"handle": [strip, _to_us(plan)], "terminal": True},  # the box by its address, or a name we do not know
    ]


def _lan_guard(plan: ProxyPlan) -> dict:
    """Clients outside the LAN get the refusal page: the connection's own address decides, not a header."""
    refused = {
        "handler": "static_response",
        "status_code": 403,
        "headers": {"Content-Type": ["text/html; charset=utf-8"], "Cache-Control": ["no-store"]},
        "body": plan.refused_page,
    }
    return {
        "match": [{"not": [{"remote_ip": {"ranges": list(plan.lan or ())}}]}],
        "handle": [refused],
        "terminal": True,
    }


def _guarded(plan: ProxyPlan, site: Site, routes: list[dict]) -> list[dict]:
    return routes if plan.lan is None or site.public else [_lan_guard(plan), *routes]


def _site_route(plan: ProxyPlan, site: Site) -> dict:
    ours = {SECRET_HEADER: [plan.secret], APP_HEADER: [site.name]}
    # The ticket callback needs no cookie of the app's domain: none is passed to us.
    callback = _to_us(plan, headers=ours)
    callback["headers"]["request"]["delete"] = ["Cookie"]
    sso = {"match": [{"path": [f"{SSO_PATH}*"]}], "handle": [callback], "terminal": True}
    handlers: list[dict] = [{"handler": "headers", "request": {"delete": OURS}}]
    if site.require_login:
        cookie = {"Cookie": [f"{SSO_COOKIE}={{http.request.cookie.{SSO_COOKIE}}}"]}
        handlers.append(_forward_auth(plan, {**ours, **cookie}))
    handlers.append(_STRIP_OUR_COOKIE)  # the app never sees our app-session cookie
    handlers.append(_to_app(site))
    return {
        "match": [{"host": [plan.host(site.name)]}],
        "handle": [{"handler": "subroute", "routes": _guarded(plan, site, [sso, {"handle": handlers}])}],
        "terminal": True,
    }


def _path_route(plan: ProxyPlan, site: Site) -> dict:
    """`/<name>` and `/<name>/*` on the admin's host, before the admin's own routes. The prefix is kept: an app
    that accepts a base path (its "base URL" setting) expects to see it, and links it makes carry it."""
    handlers: list[dict] = [{"handler": "headers", "request": {"delete": OURS}}]
    if site.require_login:
        # Same origin as the admin: its session decides directly, no ticket. The key travels in a header of ours,
        # and no cookie is sent, so none of the session middleware's answers (an MFA step's redirect) can pass.
        ours = {SECRET_HEADER: [plan.secret], APP_HEADER: [site.name]}
        ours[SESSION_HEADER] = [f"{{http.request.cookie.{plan.session_cookie}}}"]
        auth = _forward_auth(plan, ours)
        auth["headers"]["request"]["delete"] = ["Cookie"]
        handlers.append(auth)
    ours_cookies = (*plan.admin_cookies, SSO_COOKIE)
    handlers.append(_strip_cookies(ours_cookies))  # the admin's session never reaches the app
    handlers.append(_to_app(site, keep_cookies=ours_cookies))
    return {
        "match": [{"path": [f"/{site.name}", f"/{site.name}/*"]}],
        "handle": [{"handler": "subroute", "routes": _guarded(plan, site, [{"handle": handlers}])}],
        "terminal": True,
    }


def _strip_cookies(names: tuple[str, ...]) -> dict:
    alternatives = "|".join(re.escape(name) for name in names)
    return {
        "handler": "headers",
        "request": {
            "replace": {
                "Cookie": [
                    {"search_regexp": rf"(?:^|;\s*)(?:{alternatives})=[^;]*", "replace": ""},
                    {"search_regexp": r"^;\s*", "replace": ""},  # when the first cookie was ours
                ]
            }
        },
    }


_STRIP_OUR_COOKIE = {
    "handler": "headers",
    "request": {"replace": {"Cookie": [{"search_regexp": SSO_COOKIE + r"=[^;]*(;\s*)?", "replace": ""}]}},
}


def _forward_auth(plan: ProxyPlan, ours: dict) -> dict:
    """Caddy's `forward_auth`: ask our server; a 2xx lets the request on (with the user's name), anything else
    (the redirect to our login, a refusal) is what the visitor gets."""
    # `ours` carries the one credential we read (a name app's `casaos_sso` cookie, a path app's admin session):
    # the app's own cookies are none of our business.
    headers = {**ours, "X-Forwarded-Method": ["{http.request.method}"], "X-Forwarded-Uri": ["{http.request.uri}"]}
    handler = _to_us(plan, headers=headers, rewrite={"method": "GET", "uri": AUTH_PATH})
    copy_user = {
        "handler": "headers",
        "request": {"set": {USER_HEADER: [f"{{http.reverse_proxy.header.{USER_HEADER}}}"]}},
    }
    handler["handle_response"] = [{"match": {"status_code": [2]}, "routes": [{"handle": [copy_user]}]}]
    return handler


def _to_app(site: Site, *, keep_cookies: tuple[str, ...] = ()) -> dict:
    if site.port is None:
        return {"handler": "static_response", "status_code": 503, "body": "This app publishes no web page."}
    # Streams both ways: websockets are upgraded, large uploads are passed on as they arrive, never buffered.
    handler = {"handler": "reverse_proxy", "upstreams": [{"dial": f"127.0.0.1:{site.port}"}], "flush_interval": -1}
    if keep_cookies:  # on the admin's origin: the app may not set (plant, or end) the admin's own cookies
        names = "|".join(re.escape(name) for name in keep_cookies)
        refuse = {"search_regexp": rf"(?i)^\s*(?:{names})=.*$", "replace": ""}
        handler["headers"] = {"response": {"replace": {"Set-Cookie": [refuse]}}}
    return handler
