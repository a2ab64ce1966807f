"""Part 3 in-process: the forward-auth decision, the ticket hand-over and the attacks on them (a caller that is not
Caddy, another app's cookie, a replayed or foreign ticket, open redirects on the return address)."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from apps.models import AppGrant, Installation
from proxy import sso
from proxy.models import AppAddress, AppSession, ProxySettings
from proxy.selectors import proxy_secret
from tests.clients import logged_in

from .conftest import sso_continue_url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def box(settings):
    settings.PROXY_HTTPS_PORT = 443
    settings.PROXY_HTTP_PORT = 80
    ProxySettings.objects.update_or_create(pk=1, defaults={"domain": "casa.test", "https": True})
    sso.auth_forget()
    yield
    sso.auth_forget()


def _address(name: str) -> AppAddress:
    inst = Installation.objects.create(name=name, compose="services: {}", status="running", web_port=9000)
    return AppAddress.objects.create(installation=inst, name=name, require_login=True)


@pytest.fixture
def notes():
    return _address("notes")


def ask(app: str, cookie: str = "", *, secret: str | None = None, **headers) -> object:
    """What Caddy's forward-auth request looks like (the visitor's cookie, Caddy's secret and the app's name)."""
    client = Client()
    if cookie:
        client.cookies[sso.COOKIE] = cookie
    sent = {"HTTP_X_CASAOS_PROXY_SECRET": proxy_secret() if secret is None else secret, "HTTP_X_CASAOS_APP": app}
    return client.get("/proxy/auth/", **sent, **headers)


def app_session(user, address: AppAddress) -> str:
    """The cookie a visitor ends up with on the app's domain after logging in (ticket issued and redeemed)."""
    client = logged_in(user)  # a session row exists
    url = sso.sso_ticket_issue(user=user, session_key=client.session.session_key, address=address, next_path="/after")
    redeemed = sso.sso_ticket_redeem(token=url.split("ticket=")[1], app=address.name)
    assert redeemed is not None and redeemed.next_path == "/after"
    return redeemed.cookie


def test_without_an_app_session_the_visitor_goes_to_our_login(notes):
    reply = ask("notes", HTTP_X_FORWARDED_URI="/docs/1?x=2")
    assert reply.status_code == 302
    assert reply["Location"] == ("https://casa.test/proxy/start/?next=https%3A%2F%2Fnotes.casa.test%2Fdocs%2F1%3Fx%3D2")


def test_an_admin_and_a_granted_member_pass(notes, admin_user, member_user):
    AppGrant.objects.create(installation=notes.installation, user=member_user)
    for user in (admin_user, member_user):
        reply = ask("notes", app_session(user, notes))
        assert reply.status_code == 200
        assert reply["X-Casaos-User"] == user.username


def test_a_revoked_grant_or_an_ended_login_closes_the_app(notes, member_user):
    grant = AppGrant.objects.create(installation=notes.installation, user=member_user)
    cookie = app_session(member_user, notes)
    assert ask("notes", cookie).status_code == 200
    grant.delete()
    sso.auth_forget()  # else the cached decision stands for PROXY_AUTH_CACHE seconds
    assert ask("notes", cookie).status_code == 302
    grant = AppGrant.objects.create(installation=notes.installation, user=member_user)
    Session.objects.all().delete()  # logging out of the admin ends the app's session too
    sso.auth_forget()
    assert ask("notes", cookie).status_code == 302


def test_the_decision_is_cached_per_app_session(notes, admin_user, django_assert_num_queries):
    cookie = app_session(admin_user, notes)
    assert ask("notes", cookie).status_code == 200
    with django_assert_num_queries(0):
        assert sso.auth_decide(cookie=cookie, app="notes") == admin_user.username


def test_another_apps_cookie_opens_nothing(notes, admin_user):
    wiki = _address("wiki")
    cookie = app_session(admin_user, wiki)
    assert ask("wiki", cookie).status_code == 200
    assert ask("notes", cookie).status_code == 302  # bound to wiki: the app it was issued on


@pytest.mark.parametrize("secret", ["", "guess", "0" * 64])
def test_only_caddy_may_ask_whatever_headers_a_caller_makes_up(notes, admin_user, secret):
    cookie = app_session(admin_user, notes)
    spoofed = {"HTTP_X_FORWARDED_HOST": "notes.casa.test", "HTTP_X_FORWARDED_PROTO": "https"}
    reply = ask("notes", cookie, secret=secret, **spoofed)
    assert reply.status_code == 403
    assert "X-Casaos-User" not in reply


def test_a_ticket_is_used_once_on_its_own_app_and_only_through_caddy(notes, admin_user):
    wiki = _address("wiki")
    client = logged_in(admin_user)
    url = sso.sso_ticket_issue(user=admin_user, session_key=client.session.session_key, address=notes, next_path="/")
    ticket = url.split("ticket=")[1]
    assert url.startswith("https://notes.casa.test/__casaos_sso/?ticket=")
    callback = f"/__casaos_sso/?ticket={ticket}"
    assert Client().get(callback).status_code == 403  # not through Caddy
    as_wiki = Client().get(callback, HTTP_X_CASAOS_PROXY_SECRET=proxy_secret(), HTTP_X_CASAOS_APP="wiki")
    assert as_wiki.status_code == 400  # the wiki's callback cannot take the notes' ticket
    first = Client().get(callback, HTTP_X_CASAOS_PROXY_SECRET=proxy_secret(), HTTP_X_CASAOS_APP="notes")
    assert first.status_code == 302
    again = Client().get(callback, HTTP_X_CASAOS_PROXY_SECRET=proxy_secret(), HTTP_X_CASAOS_APP="notes")
    assert again.status_code == 400  # used once
    assert AppSession.objects.count() == 1
    assert AppSession.objects.get().address == notes and wiki.sessions.count() == 0


def test_the_callback_sets_a_host_only_secure_cookie_and_goes_back(notes, admin_user):
    client = logged_in(admin_user)
    url = sso.sso_ticket_issue(
        user=admin_user, session_key=client.session.session_key, address=notes, next_path="/docs?page=2"
    )
    reply = Client().get(
        "/__casaos_sso/?ticket=" + url.split("ticket=")[1],
        HTTP_X_CASAOS_PROXY_SECRET=proxy_secret(),
        HTTP_X_CASAOS_APP="notes",
        secure=True,
    )
    assert reply.status_code == 302 and reply["Location"] == "/docs?page=2"
    cookie = reply.cookies[sso.COOKIE]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert not cookie["domain"]  # host-only: never shared with the admin's or another app's domain
    assert AppSession.objects.get().digest == sso.digest(cookie.value)  # only its hash is stored


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "https://notes.casa.test.evil.example/",
        "https://evilcasa.test/",
        "https://user@notes.casa.test/",
        "https://notes.casa.test:8443/",
        "javascript:alert(1)//notes.casa.test",
        "//notes.casa.test/",
        "https://nothere.casa.test/",
        "https://casa.test/",
        "",
    ],
)
def test_the_return_address_must_be_one_of_our_apps(notes, admin_user, target):
    reply = logged_in(admin_user).get("/proxy/start/", {"next": target})
    assert reply.status_code == 400
    assert not reply.has_header("Location")


@pytest.mark.parametrize("path", ["//evil.example/x", "/\\evil.example/x", "/%0d%0aSet-Cookie:x"])
def test_a_path_that_browsers_read_as_another_host_becomes_the_apps_root(notes, path):
    _address, safe = sso.sso_target(f"https://notes.casa.test{path}")
    assert safe.startswith("/") and not safe.startswith(("//", "/\\")) and "\n" not in safe


def test_start_sends_an_allowed_user_on_with_a_ticket(notes, admin_user):
    reply = logged_in(admin_user).get("/proxy/start/", {"next": "https://notes.casa.test/docs"})
    assert reply.status_code == 200  # a page that moves on by itself: see sso_continue.html
    assert sso_continue_url(reply.content).startswith("https://notes.casa.test/__casaos_sso/?ticket=")
    assert "no-cache" in reply["Cache-Control"]  # never cached: the ticket is in it


def test_start_refuses_a_member_the_app_is_not_granted_to(notes, member_user):
    reply = logged_in(member_user).get("/proxy/start/", {"next": "https://notes.casa.test/"})
    assert reply.status_code == 403
    assert "no access to this app" in reply.content.decode()


def test_start_sends_a_visitor_to_our_login_first(notes):
    reply = Client().get("/proxy/start/", {"next": "https://notes.casa.test/"})
    assert reply.status_code == 302 and reply["Location"].startswith("/login/")
