"""Part 1: Caddy configured from the database through its admin API, the admin served over HTTPS with a
certificate of Caddy's internal CA (its real root file trusted), secure cookies and HSTS following the proxy."""

import json

import pytest

from proxy.host.caddy import CaddyAdmin, CaddyError
from proxy.host.config import caddy_config
from proxy.models import ProxySettings
from proxy.selectors import proxy_plan
from proxy.services import proxy_push

from .conftest import DOMAIN, fetch, root_ready, wait_for_certificate

pytestmark = pytest.mark.django_db


def test_it_loads_the_config_built_from_the_database_into_caddy(proxy_settings, caddy):
    proxy_push()
    running = CaddyAdmin(caddy.socket).config()
    assert running == json.loads(json.dumps(caddy_config(proxy_plan())))  # exactly what we built, nothing else
    server = running["apps"]["http"]["servers"]["casaos"]
    assert server["listen"] == [f"127.0.0.1:{caddy.https_port}"]
    assert running["apps"]["tls"]["automation"]["policies"][0]["subjects"] == [DOMAIN]
    assert running["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] is False
    row = ProxySettings.load()
    assert row.pushed_at is not None and row.push_error == ""


def test_a_configuration_caddy_refuses_is_recorded_and_the_old_one_stays(proxy_settings, caddy, settings):
    proxy_push()
    before = CaddyAdmin(caddy.socket).config()
    settings.PROXY_LISTEN = "not an address"
    with pytest.raises(CaddyError):
        proxy_push()
    assert CaddyAdmin(caddy.socket).config() == before
    assert ProxySettings.load().push_error


def test_a_missing_caddy_is_recorded(proxy_settings, tmp_path):
    proxy_settings.PROXY_ADMIN_SOCKET = tmp_path / "nobody.sock"
    with pytest.raises(CaddyError, match="does not answer"):
        proxy_push()
    assert "does not answer" in ProxySettings.load().push_error


def test_acme_mode_asks_lets_encrypt_for_the_public_domain(proxy_settings):
    ProxySettings.objects.filter(pk=1).update(domain="home.example.org", certificate_mode="acme", acme_email="a@b.c")
    policy = caddy_config(proxy_plan())["apps"]["tls"]["automation"]["policies"][0]
    assert policy == {"subjects": ["home.example.org"], "issuers": [{"module": "acme", "email": "a@b.c"}]}


def test_the_admin_is_served_over_https_with_the_internal_ca_trusted(behind_caddy, caddy):
    proxy_push()
    ca = root_ready(caddy)  # the very file Caddy wrote, as the Settings page hands it out
    wait_for_certificate(DOMAIN, caddy.https_port, ca)
    reply = fetch(DOMAIN, caddy.https_port, "/login/", ca=ca)
    assert reply.status == 200, reply.body[:500]
    assert b'name="password"' in reply.body  # our login page, from our server behind Caddy
    # HTTPS comes from the proxy's switch: cookies are Secure and HSTS is sent (CASAOS_HTTPS is off here).
    cookies = reply.cookies()
    assert cookies and all("Secure" in c for c in cookies), cookies
    assert reply.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_plain_http_is_sent_to_https(behind_caddy, caddy):
    proxy_push()
    reply = fetch(DOMAIN, caddy.http_port, "/login/")
    assert reply.status in (301, 302, 308)
    location = reply.headers["Location"]  # Caddy names no port in it: right for 443, the real one
    assert location.startswith(f"https://{DOMAIN}") and location.endswith("/login/")


def test_with_https_off_cookies_are_not_secure_and_no_hsts(behind_caddy, caddy):
    ProxySettings.objects.filter(pk=1).update(https=False)
    proxy_push()
    reply = fetch(DOMAIN, caddy.http_port, "/login/")
    assert reply.status == 200
    assert reply.cookies() and not any("Secure" in c for c in reply.cookies())
    assert "Strict-Transport-Security" not in reply.headers
