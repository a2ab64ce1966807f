"""Apps reached by a path on the admin's address, and the admin answering the LAN only, through a real Caddy (and
our real web server behind it where a login decides): the configuration as data, an app reached at /<name>/ with
its prefix kept and the admin's cookies kept from it, "require login" deciding from the admin session (refused
without the grant, let in with it, never for a login whose MFA step is missing), and a client outside the LAN
refused by the admin while a public app answers it."""

import http.client
import json
import socket

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from accounts.permissions import MFA_PENDING_SESSION_KEY
from apps.models import AppGrant, Installation
from proxy.host.caddy import CaddyAdmin
from proxy.host.config import caddy_config
from proxy.models import AppAddress
from proxy.selectors import proxy_plan
from proxy.services import proxy_push
from tests.factories import UserFactory

from .conftest import DOMAIN, fetch, root_ready, tls_context, wait_for_certificate

pytestmark = pytest.mark.django_db
OUTSIDE = "127.0.0.2"  # another loopback address: not the box itself (127.0.0.1) and not in the test's LAN
LAN = "192.168.77.0/24"


def _app(name: str, port: int, **address) -> Installation:
    inst = Installation.objects.create(name=name, compose="services: {}", status="running", web_port=port)
    AppAddress.objects.create(installation=inst, name=name, **address)
    return inst


def _routes(config: dict) -> list[dict]:
    return config["apps"]["http"]["servers"]["casaos"]["routes"]


def _ready(caddy, *hosts):
    ca = root_ready(caddy)
    for host in hosts:
        wait_for_certificate(host, caddy.https_port, ca)
    return ca


def session_of(user, **extra) -> str:
    """A real admin session in the database (as our login writes it); its key is the cookie's value."""
    client = Client()
    client.force_login(user)
    store = SessionStore(client.cookies["sessionid"].value)
    for key, value in extra.items():
        store[key] = value
    store.save()
    return store.session_key


# ---------------------------------------------------------------------------- the configuration as data
def test_a_path_app_is_routed_before_the_admin_and_needs_no_certificate(proxy_settings, app_server):
    _app("notes", app_server.port, mode="path", require_login=True)
    _app("wiki", app_server.port)
    config = caddy_config(proxy_plan())
    routes = _routes(config)
    assert routes[0]["match"] == [{"host": [f"wiki.{DOMAIN}"]}]
    assert routes[1]["match"] == [{"path": ["/notes", "/notes/*"]}]  # before the admin's catch-all routes
    assert routes[-2]["match"] == [{"host": [DOMAIN]}] and "match" not in routes[-1]
    assert config["apps"]["tls"]["automation"]["policies"][0]["subjects"] == [DOMAIN, f"wiki.{DOMAIN}"]
    handlers = routes[1]["handle"][0]["routes"][-1]["handle"]
    auth = next(h for h in handlers if h.get("rewrite", {}).get("uri") == "/proxy/auth/")
    assert auth["headers"]["request"]["set"]["X-Casaos-Session"] == ["{http.request.cookie.sessionid}"]
    assert auth["headers"]["request"]["delete"] == ["Cookie"]  # the session middleware never sees a cookie
    assert not any(r.get("match", [{}])[0].get("not") for r in routes)  # the firewall is off: no LAN guard


def test_with_the_firewall_on_the_admin_and_apps_not_public_answer_the_lan(proxy_settings, app_server):
    proxy_settings.FIREWALL, proxy_settings.FIREWALL_LAN = True, [LAN]
    _app("notes", app_server.port, mode="path")
    _app("pub", app_server.port, public=True)
    routes = _routes(caddy_config(proxy_plan()))
    guard = {"not": [{"remote_ip": {"ranges": [LAN, "127.0.0.1/32", "::1/128"]}}]}
    assert guard not in [r.get("match", [{}])[0] for r in routes[0]["handle"][0]["routes"]]  # public: open
    assert routes[1]["handle"][0]["routes"][0]["match"] == [guard]  # the path app is not public
    assert routes[2]["match"] == [guard] and routes[2]["handle"][0]["status_code"] == 403  # then the admin's
    assert all("/login/" not in json.dumps(r.get("match", "")) for r in routes)  # no sign-in from outside needed


def test_sign_in_pages_open_beyond_the_lan_only_for_a_public_app_that_requires_login(proxy_settings, app_server):
    proxy_settings.FIREWALL, proxy_settings.FIREWALL_LAN = True, [LAN]
    _app("pub", app_server.port, public=True, require_login=True)
    routes = _routes(caddy_config(proxy_plan()))
    signin = routes[1]["match"][0]["path"]
    assert {"/login/", "/accounts/login/otp/", "/proxy/start/", "/static/*"} <= set(signin)
    assert not any(p.startswith(("/settings", "/api", "/apps")) for p in signin)
    assert routes[2]["match"][0]["not"]  # everything else of the admin: the LAN only


# ---------------------------------------------------------------------------- through Caddy
def test_an_app_is_reached_by_its_path_with_the_prefix_kept(proxy_settings, caddy, app_server):
    _app("notes", app_server.port, mode="path")
    proxy_push()
    assert CaddyAdmin(caddy.socket).config() == json.loads(json.dumps(caddy_config(proxy_plan())))
    ca = _ready(caddy, DOMAIN)
    cookies = {"Cookie": "sessionid=admins; theirs=1; csrftoken=tok; casaos_sso=x; mysessionid=kept"}
    seen = json.loads(fetch(DOMAIN, caddy.https_port, "/notes/some/page?x=1", ca=ca, headers=cookies).body)
    assert seen["path"] == "/notes/some/page?x=1"  # the app's base path stays: it was configured with it
    assert seen["headers"]["cookie"] == "theirs=1; mysessionid=kept"  # the admin's session never reaches the app
    planted = fetch(DOMAIN, caddy.https_port, "/notes/set-cookies", ca=ca).headers.get_all("Set-Cookie")
    assert "theirs=2; Path=/" in planted and not any("sessionid" in line for line in planted)
    bare = json.loads(fetch(DOMAIN, caddy.https_port, "/notes", ca=ca).body)
    assert bare["path"] == "/notes"
    other = fetch(DOMAIN, caddy.https_port, "/notesx/", ca=ca)
    assert b'"path"' not in other.body  # /notesx/ is not the app


@pytest.mark.stack
@pytest.mark.django_db(transaction=True)
def test_require_login_on_a_path_decides_from_the_admin_session(behind_caddy, caddy, app_server):
    inst = _app("notes", app_server.port, mode="path", require_login=True)
    proxy_push()
    ca = _ready(caddy, DOMAIN)
    member = UserFactory(username="path-member")
    key = session_of(member)

    def visit(cookie: str = "", **headers):
        sent = {"Cookie": cookie, **headers} if cookie else headers
        return fetch(DOMAIN, caddy.https_port, "/notes/page?x=1", ca=ca, headers=sent)

    anonymous = visit()
    assert anonymous.status == 302
    assert anonymous.headers["Location"] == "/login/?next=%2Fnotes%2Fpage%3Fx%3D1"  # our login, same origin
    refused = visit(f"sessionid={key}")
    assert refused.status == 403 and b"no access to this app" in refused.body  # logged in, not granted
    AppGrant.objects.create(installation=inst, user=member)
    allowed = visit(f"sessionid={key}; theirs=1")
    assert allowed.status == 200
    seen = json.loads(allowed.body)
    assert seen["path"] == "/notes/page?x=1" and seen["headers"]["x-casaos-user"] == "path-member"
    assert seen["headers"]["cookie"] == "theirs=1"


@pytest.mark.stack
@pytest.mark.django_db(transaction=True)
def test_a_path_app_refuses_half_logins_and_made_up_sessions(behind_caddy, caddy, app_server):
    inst = _app("notes", app_server.port, mode="path", require_login=True)
    proxy_push()
    ca = _ready(caddy, DOMAIN)
    member = UserFactory(username="path-granted")
    AppGrant.objects.create(installation=inst, user=member)
    pending = session_of(member, **{MFA_PENDING_SESSION_KEY: True})  # the password given, not the OTP code

    def visit(**headers):
        return fetch(DOMAIN, caddy.https_port, "/notes/", ca=ca, headers=headers)

    # An htmx header once made the MFA gate answer 204 (a 2xx): the decision no longer sees a session cookie.
    assert visit(Cookie=f"sessionid={pending}", **{"HX-Request": "true"}).status == 302
    assert visit(Cookie=f"sessionid={pending}").status == 302
    whole = session_of(member)
    assert visit(**{"X-Casaos-Session": whole}).status == 302  # only the cookie counts, never a visitor's header
    assert visit(Cookie="sessionid=made-up").status == 302
    assert visit(Cookie=f"sessionid={whole}").status == 200


# ---------------------------------------------------------------------------- the LAN, seen by Caddy
def _fetch_from(source: str, host: str, port: int, ca, path: str = "/") -> int:
    """A request whose client address is `source` (a loopback address other than the box's own 127.0.0.1)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.sock = tls_context(ca).wrap_socket(raw, server_hostname=host)
    try:
        conn.request("GET", path, headers={"Host": f"{host}:{port}", "X-Forwarded-For": "192.168.77.5"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_outside_the_lan_the_admin_is_refused_and_a_public_app_answers(proxy_settings, caddy, app_server):
    proxy_settings.FIREWALL, proxy_settings.FIREWALL_LAN = True, [LAN]
    _app("pub", app_server.port, public=True)
    _app("home", app_server.port)
    _app("notes", app_server.port, mode="path")
    proxy_push()
    hosts = (DOMAIN, f"pub.{DOMAIN}", f"home.{DOMAIN}")
    ca = _ready(caddy, *hosts)
    port = caddy.https_port
    # The made-up X-Forwarded-For (a LAN address) changes nothing: the connection's own address decides.
    assert _fetch_from(OUTSIDE, DOMAIN, port, ca, "/login/") == 403
    assert _fetch_from(OUTSIDE, DOMAIN, port, ca, "/notes/") == 403  # a path app that is not public
    assert _fetch_from(OUTSIDE, f"home.{DOMAIN}", port, ca) == 403  # an app host that is not public
    assert _fetch_from(OUTSIDE, f"pub.{DOMAIN}", port, ca) == 200  # a public app stays open
    assert _fetch_from("127.0.0.1", f"home.{DOMAIN}", port, ca) == 200  # the box itself is at home
    assert _fetch_from("127.0.0.1", DOMAIN, port, ca, "/notes/") == 200
