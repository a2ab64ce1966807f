"""GET|PATCH /api/proxy/ and the Settings → Proxy page: admins only, clear refusals, every change re-pushed."""

import pytest

from proxy.models import ProxySettings
from proxy.tasks import proxy_push_task
from tests.clients import logged_in

pytestmark = pytest.mark.django_db


def test_it_shows_and_changes_the_proxy_settings(admin_user, settings, django_capture_on_commit_callbacks):
    settings.PROXY = True
    settings.PROXY_HTTP_PORT = 80
    client = logged_in(admin_user)
    with django_capture_on_commit_callbacks() as pushes:
        reply = client.patch("/api/proxy/", {"domain": "Casa.Example.org.", "https": False}, "application/json")
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert body["domain"] == "casa.example.org" and body["https"] is False
    assert body["admin_url"] == "http://casa.example.org"  # no port: HTTPS off, the proxy on port 80
    assert [c for c in pushes if c == proxy_push_task.delay] == [proxy_push_task.delay]  # pushed once committed
    assert client.get("/api/proxy/").json()["certificate_mode"] == "internal"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"domain": "nodots"}, "domain"),
        ({"domain": "bad_label.example"}, "domain"),
        ({"domain": "192.168.1.10"}, "domain"),
        ({"domain": "-x.example"}, "domain"),
        ({"certificate_mode": "acme"}, "domain"),  # Let's Encrypt needs a public domain
        ({"certificate_mode": "selfsigned"}, "certificate_mode"),
        ({"acme_email": "not an address"}, "acme_email"),
    ],
)
def test_it_refuses_bad_settings_with_the_field_at_fault(admin_user, change, field):
    reply = logged_in(admin_user).patch("/api/proxy/", change, "application/json")
    assert reply.status_code == 400
    assert field in reply.json()
    assert ProxySettings.load().domain == ""  # nothing half-written


def test_members_may_not_read_or_change_it(member_user):
    client = logged_in(member_user)
    assert client.get("/api/proxy/").status_code == 403
    assert client.patch("/api/proxy/", {"https": False}, "application/json").status_code == 403
    assert ProxySettings.load().https is True


def test_the_settings_page_saves_and_shows_errors(admin_user):
    client = logged_in(admin_user)
    assert client.get("/settings/proxy/").status_code == 200
    bad = client.post("/settings/proxy/", {"domain": "nodots", "certificate_mode": "internal", "https": "on"})
    assert bad.status_code == 400 and "is not a domain name" in bad.content.decode()
    ok = client.post("/settings/proxy/", {"domain": "casa.lan", "certificate_mode": "internal", "https": "on"})
    assert ok.status_code == 302
    assert ProxySettings.load().domain == "casa.lan"


def test_the_root_certificate_is_offered_once_caddy_made_it(member_user, settings, tmp_path):
    settings.PROXY_DIR = tmp_path
    client = logged_in(member_user)
    assert client.get("/proxy/root.crt").status_code == 404
    root = tmp_path / "pki" / "authorities" / "local" / "root.crt"
    root.parent.mkdir(parents=True)
    root.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    reply = client.get("/proxy/root.crt")
    assert reply.status_code == 200 and b"BEGIN CERTIFICATE" in b"".join(reply.streaming_content)
    assert "casaos-root-ca.crt" in reply["Content-Disposition"]
