"""Part 3 end to end, through a real Caddy to our real web server (CASAOS_PROXY=1): an app that requires our login
refuses a visitor, sends them to our login with MFA, and lets them in afterwards by a one-time ticket; a visitor
cannot pose as Caddy from outside it."""

import json
import re
from urllib.parse import urlsplit

import pytest

from apps.models import AppGrant
from tests.accounts.conftest import give_mfa, totp_code
from tests.factories import PASSWORD, UserFactory

from .conftest import DOMAIN, HOST, fetch, sso_continue_url

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]


class Visitor:
    """A browser's part that matters here: cookies kept per host (never sent to another), redirects followed."""

    def __init__(self, port: int, ca):
        self.port, self.ca = port, ca
        self.jar: dict[str, dict[str, str]] = {}
        self.cookie_lines: dict[str, list[str]] = {}

    def get(self, url: str, **kw):
        return self.request("GET", url, **kw)

    def request(self, method: str, url: str, *, body: str | None = None, headers: dict | None = None):
        parts = urlsplit(url)
        host = parts.hostname
        assert parts.port == self.port, url  # never anywhere but our proxy
        sent = dict(headers or {})
        if self.jar.get(host):
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar[host].items())
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        reply = fetch(host, self.port, path, ca=self.ca, method=method, headers=sent, body=body)
        for line in reply.cookies():
            self.cookie_lines.setdefault(host, []).append(line)
            name, _, value = line.split(";")[0].partition("=")
            self.jar.setdefault(host, {})[name.strip()] = value
        return reply

    def location(self, reply, base: str) -> str:
        target = reply.headers["Location"]
        return target if target.startswith("https://") else f"https://{urlsplit(base).netloc}{target}"


def test_require_login_refuses_then_lets_in_after_login_with_mfa(guarded, caddy):
    inst, ca = guarded
    member = UserFactory(username="sso-member")
    key = give_mfa(member)
    AppGrant.objects.create(installation=inst, user=member)
    visitor = Visitor(caddy.https_port, ca)
    admin_origin = f"https://{DOMAIN}:{caddy.https_port}"
    start = f"https://{HOST}:{caddy.https_port}/page?x=1"

    refused = visitor.get(start)
    assert refused.status == 302  # forward auth: not yet
    to_start = refused.headers["Location"]
    assert to_start.startswith(f"{admin_origin}/proxy/start/?next=")
    to_login = visitor.get(to_start)
    assert to_login.status == 302 and to_login.headers["Location"].startswith("/login/?next=")

    login_url = visitor.location(to_login, to_start)
    form = visitor.get(login_url)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body).group(1).decode()
    next_path = re.search(r"next=([^&]+)", login_url).group(1)
    from urllib.parse import unquote

    posted = visitor.request(
        "POST",
        f"{admin_origin}/login/",
        body=f"csrfmiddlewaretoken={token}&username=sso-member&password={PASSWORD.replace(' ', '+')}&next={next_path}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": admin_origin, "Referer": login_url},
    )
    assert posted.status == 302, posted.body[:300]
    otp_url = visitor.location(posted, admin_origin)
    assert "/accounts/login/otp/" in otp_url  # MFA before any app
    otp_page = visitor.get(otp_url)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', otp_page.body).group(1).decode()
    otp_next = re.search(r"next=([^&]+)", otp_url).group(1)
    verified = visitor.request(
        "POST",
        f"{admin_origin}/accounts/login/otp/",
        body=f"csrfmiddlewaretoken={token}&code={totp_code(key)}&next={otp_next}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": admin_origin, "Referer": otp_url},
    )
    assert verified.status == 302, verified.body[:300]
    assert unquote(visitor.location(verified, admin_origin)) == unquote(to_start)

    ticketed = visitor.get(to_start)
    assert ticketed.status == 200  # the page that moves on by itself (a meta refresh, not a redirect)
    callback = sso_continue_url(ticketed.body)
    assert callback.startswith(f"https://{HOST}:{caddy.https_port}/__casaos_sso/?ticket=")
    landed = visitor.get(callback)
    assert landed.status == 302 and landed.headers["Location"] == "/page?x=1"
    sso_cookie = next(line for line in visitor.cookie_lines[HOST] if line.startswith("casaos_sso="))
    assert "Secure" in sso_cookie and "HttpOnly" in sso_cookie and "Domain" not in sso_cookie
    assert "casaos_sso" not in visitor.jar.get(DOMAIN, {})  # never on the admin's domain

    inside = visitor.get(visitor.location(landed, callback))
    assert inside.status == 200
    seen = json.loads(inside.body)
    assert seen["path"] == "/page?x=1"
    assert seen["headers"]["x-casaos-user"] == "sso-member"  # the app may read who we let in
    assert "casaos_sso" not in seen["headers"].get("cookie", "")

    assert visitor.get(callback).status == 400  # the ticket worked once


def test_a_visitor_cannot_pose_as_caddy(guarded, caddy, web):
    _inst, ca = guarded
    admin = UserFactory(admin=True, username="sso-admin")
    assert admin.pk
    spoof = {"X-Casaos-Proxy-Secret": "guess", "X-Casaos-App": "notes", "X-Forwarded-Host": HOST}
    # Through Caddy, on the admin's domain: the made-up secret is removed before it reaches us.
    via_admin = fetch(DOMAIN, caddy.https_port, "/proxy/auth/", ca=ca, headers=spoof)
    assert via_admin.status == 403
    # Past Caddy, straight to our server: no secret, no answer.
    direct = fetch("127.0.0.1", web.port, "/proxy/auth/", headers=spoof)
    assert direct.status == 403
    callback = fetch(DOMAIN, caddy.https_port, "/__casaos_sso/?ticket=x", ca=ca, headers=spoof)
    assert callback.status == 403
    # X-Forwarded-Proto/-Host on the app's domain change nothing: still sent to our login, at our address.
    refused = fetch(HOST, caddy.https_port, "/", ca=ca, headers={"X-Forwarded-Host": "evil.example"})
    assert refused.status == 302
    assert refused.headers["Location"].startswith(f"https://{DOMAIN}:{caddy.https_port}/proxy/start/")
    assert "evil" not in refused.headers["Location"]
