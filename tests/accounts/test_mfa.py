"""MFA: the password alone reaches nothing; codes are single-use; enrolment, removal, the admin requirement."""

import re

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import AuditEvent, Authenticator, BackupCode, User
from accounts.permissions import STEPUP_SESSION_KEY
from casaos_site.asgi import application
from tests.accounts.conftest import give_mfa, password_only_client, totp_code
from tests.factories import PASSWORD, UserFactory


def _otp(client, code):
    return client.post("/accounts/login/otp/", {"code": code, "next": "/"})


@pytest.mark.parametrize(
    "path", ["/", "/system/stats/", "/settings/", "/settings/tokens/", "/django-admin/", "/settings/users/"]
)
def test_a_password_alone_reaches_no_page(client, mfa_admin, path):
    password_only_client(client, mfa_admin, PASSWORD)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/otp/")


def test_a_password_alone_reaches_no_api_and_no_htmx_fragment(client, mfa_admin):
    password_only_client(client, mfa_admin, PASSWORD)
    assert client.get("/api/me/").status_code == 403
    assert client.post("/api/tokens/", {"name": "x", "scope": "full"}).status_code == 403
    fragment = client.get("/system/stats/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 204 and fragment["HX-Redirect"].startswith("/accounts/login/otp/")
    assert not mfa_admin.api_tokens.exists()


def _is_the_catalog(response) -> bool:
    return response.status_code == 200 and response["Content-Type"].startswith("text/javascript")


def test_the_otp_page_gets_its_javascript_catalog(client, mfa_admin):
    password_only_client(client, mfa_admin, PASSWORD)
    assert _is_the_catalog(client.get("/jsi18n/"))  # not a redirect to the OTP page (HTML, refused as a script)


def test_the_otp_page_gets_the_service_worker_and_the_manifest(client, mfa_admin):
    """A browser refuses a service worker behind a redirect: the gate must not send it to the OTP page."""
    password_only_client(client, mfa_admin, PASSWORD)
    assert _is_the_catalog(client.get("/sw.js"))
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and "json" in manifest["Content-Type"]
    assert client.get("/apps/").status_code == 302  # the rest stays gated


def test_the_otp_page_opens_no_socket_it_would_be_refused(client, mfa_admin):
    """Half logged in, the layout leaves out the bell: its socket needs the whole login (a 403 in the console)."""
    password_only_client(client, mfa_admin, PASSWORD)
    page = client.get("/accounts/login/otp/")
    assert page.status_code == 200 and "/ws/notifications/" not in page.content.decode()


def test_an_admin_who_must_enrol_gets_the_javascript_catalog(client, mfa_admin):
    UserFactory(admin=True, username="second")
    client.post("/login/", {"username": "second", "password": PASSWORD})
    assert _is_the_catalog(client.get("/jsi18n/"))
    assert client.get("/apps/")["Location"].startswith("/settings/mfa/?next=")  # the rest stays gated


def test_the_otp_step_completes_the_login(client, mfa_admin):
    password_only_client(client, mfa_admin, PASSWORD)
    response = _otp(client, totp_code(mfa_admin.totp_key))
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/api/me/").json()["username"] == "root"
    assert AuditEvent.objects.filter(action="login.success", actor=mfa_admin, details__method="otp").exists()


def test_a_replayed_totp_code_is_refused(client, mfa_admin):
    code = totp_code(mfa_admin.totp_key)
    password_only_client(client, mfa_admin, PASSWORD)
    assert _otp(client, code).status_code == 302
    thief = password_only_client(Client(), mfa_admin, PASSWORD)
    response = _otp(thief, code)
    assert response.status_code == 200 and b"not right" in response.content
    assert thief.get("/api/me/").status_code == 403
    assert AuditEvent.objects.filter(action="mfa.failure").count() == 1


def test_a_backup_code_works_once(client, mfa_member):
    password_only_client(client, mfa_member, PASSWORD)
    assert _otp(client, "backup0001").status_code == 302
    assert BackupCode.objects.filter(device__user=mfa_member).count() == 1
    again = password_only_client(Client(), mfa_member, PASSWORD)
    assert _otp(again, "backup0001").status_code == 200
    assert again.get("/").status_code == 302


def test_repeated_wrong_codes_lock_the_account(client, mfa_member, settings):
    settings.LOCKOUT_ACCOUNT_FAILURES = 3
    password_only_client(client, mfa_member, PASSWORD)
    for n in range(3):
        _otp(client, f"00000{n}")
    response = _otp(client, totp_code(mfa_member.totp_key))
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def _ws_connect(client) -> tuple[bool, int | None]:
    cookie = client.cookies["sessionid"].value
    headers = [(b"cookie", f"sessionid={cookie}".encode()), (b"host", b"testserver")]

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/system/", headers=headers)
        connected, code = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return connected, code

    return async_to_sync(scenario)()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_websocket_refuses_a_session_before_its_otp_step(redis_client):
    user = UserFactory(username="wsuser")
    key = give_mfa(user)
    client = password_only_client(Client(), user, PASSWORD)
    assert _ws_connect(client) == (False, 4401)
    _otp(client, totp_code(key))
    connected, _ = _ws_connect(client)
    assert connected


def test_enrolment_shows_a_key_and_is_confirmed_by_a_first_code(client, member_user):
    client.force_login(member_user)
    page = client.get("/settings/mfa/").content.decode()
    assert "data:image/svg+xml;base64," in page
    key = re.search(r'id="totp-key">([A-Z2-7]+)<', page).group(1)
    device = Authenticator.objects.get(user=member_user, confirmed=False)
    assert device.bin_key == __import__("base64").b32decode(key)
    assert client.post("/settings/mfa/", {"code": "000000"}).status_code == 200
    member_user.refresh_from_db()
    assert not member_user.mfa_enabled
    done = client.post("/settings/mfa/", {"code": totp_code(device.bin_key)})
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    member_user.refresh_from_db()
    assert member_user.mfa_enabled
    assert AuditEvent.objects.filter(action="mfa.enabled", actor=member_user).exists()
    assert client.get("/api/me/").status_code == 200  # this session counts as verified


def test_removal_needs_the_password_and_a_code(client, mfa_member):
    _stepped_up_and_verified(client, mfa_member)
    client.post("/settings/mfa/remove/", {"password": PASSWORD, "code": "999999"})
    client.post("/settings/mfa/remove/", {"password": "wrong", "code": totp_code(mfa_member.totp_key)})
    mfa_member.refresh_from_db()
    assert mfa_member.mfa_enabled and Authenticator.objects.filter(user=mfa_member).exists()
    client.post("/settings/mfa/remove/", {"password": PASSWORD, "code": "backup0002"})
    mfa_member.refresh_from_db()
    assert not mfa_member.mfa_enabled and not Authenticator.objects.filter(user=mfa_member).exists()
    assert AuditEvent.objects.filter(action="mfa.removed").count() == 1


def _stepped_up_and_verified(client, user):
    password_only_client(client, user, PASSWORD)
    _otp(client, "backup0001")
    session = client.session
    session[STEPUP_SESSION_KEY] = 9e12
    session.save()


def test_once_an_admin_enrols_other_admins_must_enrol_first(client, mfa_admin):
    other = UserFactory(admin=True, username="second")
    response = client.post("/login/", {"username": "second", "password": PASSWORD})
    assert response["Location"].startswith("/settings/mfa/")
    assert client.get("/apps/")["Location"].startswith("/settings/mfa/?next=")
    assert client.get("/api/me/").status_code == 403
    page = client.get("/settings/mfa/")
    assert page.status_code == 200 and b"must use MFA" in page.content
    device = Authenticator.objects.get(user=other, confirmed=False)
    client.post("/settings/mfa/", {"code": totp_code(device.bin_key)})
    assert client.get("/api/me/").status_code == 200


def test_an_admin_may_switch_the_requirement_off_with_step_up(client, mfa_admin):
    UserFactory(admin=True, username="second")
    _stepped_up_and_verified(client, mfa_admin)
    client.post("/settings/security/", {})
    other = Client()
    assert other.post("/login/", {"username": "second", "password": PASSWORD})["Location"] == "/"
    assert User.objects.get(username="second").mfa_enabled is False


# ---------------------------------------------------------------------------- a new session key at every step
def _key(client) -> str:
    return client.cookies["sessionid"].value


def _worthless(key: str) -> bool:
    """A client holding only this session id reaches nothing, and the server keeps no session by it."""
    from django.contrib.sessions.models import Session

    holder = Client()
    holder.cookies["sessionid"] = key
    return holder.get("/api/me/").status_code in (401, 403) and not Session.objects.filter(session_key=key).exists()


@pytest.mark.parametrize("code", ["totp", "backup0001"])
def test_the_session_id_from_before_the_otp_step_is_worthless_after_it(client, mfa_admin, code):
    password_only_client(client, mfa_admin, PASSWORD)
    before = _key(client)  # what someone who saw the first step (a shared screen, a proxy log) would hold
    assert _otp(client, totp_code(mfa_admin.totp_key) if code == "totp" else code).status_code == 302
    assert _key(client) != before and _worthless(before)
    assert client.get("/api/me/").json()["username"] == "root"


def test_a_step_up_gives_the_session_a_new_key(client, mfa_member):
    password_only_client(client, mfa_member, PASSWORD)
    _otp(client, "backup0001")
    before = _key(client)
    response = client.post("/accounts/stepup/", {"password": PASSWORD, "code": "backup0002", "next": "/settings/"})
    assert response.status_code == 302 and response["Location"] == "/settings/"
    assert _key(client) != before and _worthless(before)
    assert client.session[STEPUP_SESSION_KEY] > 0


def test_an_enrolment_at_login_gives_the_session_a_new_key(client, mfa_admin):
    other = UserFactory(admin=True, username="second")
    client.post("/login/", {"username": "second", "password": PASSWORD})
    client.get("/settings/mfa/")  # the enrolment starts: a key to scan
    before = _key(client)
    device = Authenticator.objects.get(user=other, confirmed=False)
    client.post("/settings/mfa/", {"code": totp_code(device.bin_key)})
    assert _key(client) != before and _worthless(before)
    assert client.get("/api/me/").json()["username"] == "second"


def test_the_password_step_gives_the_session_a_new_key(client, mfa_admin):
    session = client.session  # a session planted before the login (session fixation)
    session["planted"] = True
    session.save()
    before = session.session_key
    client.cookies["sessionid"] = before
    password_only_client(client, mfa_admin, PASSWORD)
    assert _key(client) != before and _worthless(before)


def test_wrong_codes_from_several_addresses_delay_the_code_step_and_not_the_password(mfa_member, settings):
    settings.LOCKOUT_THROTTLE_AFTER = 2
    for n in range(2):
        guesser = password_only_client(Client(REMOTE_ADDR=f"203.0.113.{n}"), mfa_member, PASSWORD)
        assert _otp(guesser, "000000").status_code == 200
    owner = password_only_client(Client(REMOTE_ADDR="198.51.100.7"), mfa_member, PASSWORD)  # the password step
    waiting = _otp(owner, totp_code(mfa_member.totp_key))
    assert waiting.status_code == 429 and waiting["Retry-After"] == "1"
    assert b"Try again in 1 second." in waiting.content
    assert AuditEvent.objects.filter(action="lockout.throttled", target="carol", details__kind="code").exists()
