"""API tokens: header only, hashed, scoped, expiring, revocable; garbage is a 401, never a 500."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import APIToken, AuditEvent, FailureCounter, User
from accounts.services.tokens import api_token_create
from tests.accounts.conftest import password_only_client
from tests.factories import PASSWORD


def _bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def read_token(member_user):
    return api_token_create(user=member_user, name="dash", scope=APIToken.Scope.READ)[1]


@pytest.fixture
def full_token(admin_user):
    return api_token_create(user=admin_user, name="script", scope=APIToken.Scope.FULL)[1]


def test_a_token_is_created_once_from_the_settings_page_and_only_its_hash_is_kept(client, member_user):
    client.force_login(member_user)
    page = client.post("/settings/tokens/", {"name": "grafana", "scope": "read", "expires_days": "30"})
    raw = page.context["created"]
    assert raw.startswith("casa_") and raw in page.content.decode()
    row = APIToken.objects.get()
    assert raw not in {row.digest, row.prefix, row.name} and len(row.digest) == 64
    assert all(raw not in str(value) for value in APIToken.objects.values().get().values())
    assert raw not in client.get("/settings/tokens/").content.decode()  # shown once
    assert row.expires_at > timezone.now() + timedelta(days=29)
    assert AuditEvent.objects.filter(action="token.created").exists()
    assert raw not in str(list(AuditEvent.objects.values()))


def test_a_token_authenticates_in_the_header_and_records_its_use(read_token, member_user):
    response = Client().get("/api/me/", **_bearer(read_token))
    assert response.status_code == 200
    assert response.json()["username"] == "member" and response.json()["token_scope"] == "read"
    assert APIToken.objects.get().last_used_at is not None


@pytest.mark.parametrize("param", ["token", "access_token", "auth_token", "api_key", "key"])
def test_a_token_in_the_query_string_is_ignored(read_token, param):
    assert Client().get(f"/api/me/?{param}={read_token}").status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Token casa_x",
        "Bearer casa_" + "é" * 10,
        "Bearer casa_" + "a" * 5000,
        "Bearer \x00\x01",
        "bearer casa_nope",
        "Basic Zm9vOmJhcg==",
        "Bearer null",
        "Digest x=1",
        "  ",
        "Bearer casa_",
    ],
)
def test_garbage_authorization_headers_are_401(db, header):
    response = Client().get("/api/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_read_token_cannot_write(read_token, member_user):
    response = Client().post("/api/tokens/", {"name": "escalate", "scope": "full"}, **_bearer(read_token))
    assert response.status_code == 403
    assert APIToken.objects.count() == 1


def test_a_token_cannot_mint_tokens(full_token):
    response = Client().post("/api/tokens/", {"name": "longer", "scope": "full"}, **_bearer(full_token))
    assert response.status_code == 403
    assert APIToken.objects.count() == 1


def test_expired_and_revoked_tokens_are_refused(member_user):
    _, expired = api_token_create(
        user=member_user, name="old", scope="read", expires_at=timezone.now() - timedelta(seconds=1)
    )
    row, revoked = api_token_create(user=member_user, name="gone", scope="read")
    client = Client()
    client.force_login(member_user)
    client.post(f"/settings/tokens/{row.pk}/revoke/")
    assert Client().get("/api/me/", **_bearer(expired)).status_code == 401
    assert Client().get("/api/me/", **_bearer(revoked)).status_code == 401
    assert AuditEvent.objects.filter(action="token.revoked").count() == 1


def test_a_disabled_users_token_is_refused(read_token, member_user):
    member_user.is_active = False
    member_user.save()
    assert Client().get("/api/me/", **_bearer(read_token)).status_code == 401


def test_a_bad_token_counts_once_in_its_own_bucket_and_locks_nothing_else(read_token, member_user):
    assert Client().get("/api/me/", **_bearer("casa_guess")).status_code == 401
    assert list(FailureCounter.objects.values_list("kind", "key", "failures")) == [("token", "127.0.0.1", 1)]
    assert Client().get("/api/me/", **_bearer(read_token)).status_code == 200
    login = Client().post("/login/", {"username": "member", "password": PASSWORD})
    assert login.status_code == 302 and login["Location"] == "/"


def test_a_flood_of_bad_tokens_is_one_audit_entry_with_a_count(client, admin_user, settings, caplog):
    settings.LOCKOUT_TOKEN_FAILURES = 100
    for n in range(25):
        Client().get("/api/me/", **_bearer(f"casa_guess{n}"))
    (entry,) = AuditEvent.objects.filter(action="token.failure")
    assert entry.address == "127.0.0.1" and entry.details["count"] == 25 and entry.details["last_at"]
    assert sum("token.failure" in r.getMessage() for r in caplog.records) == 1  # nor does it flood the log file
    client.force_login(admin_user)
    assert "\u00d7 25" in client.get("/settings/audit/").content.decode()


def test_bad_tokens_beyond_their_limit_get_429_and_valid_ones_still_work(read_token, member_user, settings):
    settings.LOCKOUT_TOKEN_FAILURES = 3
    # A forged X-Forwarded-For (no trusted proxy) changes nothing: every guess comes from the same peer.
    answers = [
        Client().get("/api/me/", **_bearer(f"casa_guess{n}"), HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(5)
    ]
    assert answers == [401, 401, 401, 429, 429]  # the third reaches the limit; what follows is beyond it
    refused = Client().get("/api/me/", **_bearer("casa_again"))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many invalid API tokens" in refused.json()["detail"]
    assert AuditEvent.objects.filter(action="lockout.started", details__kind="token").count() == 1
    assert AuditEvent.objects.get(action="token.failure").details["count"] == 6
    assert Client().get("/api/me/", **_bearer(read_token)).status_code == 200
    assert Client().post("/login/", {"username": "member", "password": PASSWORD}).status_code == 302
    call_command("unlock", "--address", "127.0.0.1")
    assert Client().get("/api/me/", **_bearer("casa_guess9")).status_code == 401


def test_a_password_lock_on_the_address_does_not_refuse_a_valid_token(read_token, settings):
    settings.LOCKOUT_ADDRESS_FAILURES = 2
    for _ in range(2):
        Client().post("/login/", {"username": "nobody", "password": "wrong"})
    assert FailureCounter.objects.get(kind="address").is_locked()
    assert Client().get("/api/me/", **_bearer(read_token)).status_code == 200


def test_an_mfa_user_needs_a_verified_session_to_create_a_token(client, mfa_member):
    password_only_client(client, mfa_member, PASSWORD)
    assert client.post("/api/tokens/", {"name": "x", "scope": "full"}).status_code == 403
    assert client.post("/settings/tokens/", {"name": "x", "scope": "full"}).status_code == 302
    assert not APIToken.objects.exists()


def test_the_api_creates_a_token_for_a_session_and_shows_it_once(client, member_user):
    client.force_login(member_user)
    response = client.post("/api/tokens/", {"name": "ci", "scope": "full"})
    assert response.status_code == 201
    raw = response.json()["token"]
    assert Client().get("/api/me/", **_bearer(raw)).status_code == 200
    listed = client.get("/api/tokens/").json()
    assert "token" not in listed[0] and listed[0]["prefix"] == raw[:12]
    assert client.delete(f"/api/tokens/{listed[0]['id']}/").status_code == 204
    assert Client().get("/api/me/", **_bearer(raw)).status_code == 401


def test_a_full_token_counts_as_step_up_but_a_plain_session_does_not(client, admin_user, full_token):
    client.force_login(admin_user)
    data = {"username": "newbie", "password": "another long passphrase 42", "role": "member"}
    assert client.post("/api/users/", data).status_code == 403
    assert not User.objects.filter(username="newbie").exists()
    response = Client().post("/api/users/", data, content_type="application/json", **_bearer(full_token))
    assert response.status_code == 201
    assert User.objects.get(username="newbie").role == "member"


def test_the_apitoken_command_prints_a_working_token(member_user, capsys):
    call_command("apitoken", "member", "--scope", "full")
    raw = capsys.readouterr().out.strip()
    assert Client().get("/api/me/", **_bearer(raw)).json()["token_scope"] == "full"


# ---------------------------------------------------------------------------- when tokens are revoked
def _usable(raw: str) -> bool:
    return Client().get("/api/me/", **_bearer(raw)).status_code == 200


def test_removing_ones_own_mfa_keeps_ones_tokens(client, mfa_member):
    raw = api_token_create(user=mfa_member, name="cron", scope=APIToken.Scope.READ)[1]
    password_only_client(client, mfa_member, PASSWORD)
    client.post("/accounts/login/otp/", {"code": "backup0001"})
    client.post("/settings/mfa/remove/", {"password": PASSWORD, "code": "backup0002"})
    mfa_member.refresh_from_db()
    assert not mfa_member.mfa_enabled
    assert _usable(raw)  # the owner gave the password and a code: nothing says someone else holds them


def test_manage_removemfa_revokes_the_users_tokens(mfa_member):
    raw = api_token_create(user=mfa_member, name="cron", scope=APIToken.Scope.READ)[1]
    call_command("removemfa", mfa_member.username, stdout=io.StringIO())
    assert not _usable(raw)


def test_a_password_set_in_the_django_admin_revokes_the_users_tokens(client, admin_user, read_token, member_user):
    client.force_login(admin_user)
    new = "a different long passphrase 3"
    answer = client.post(
        f"/django-admin/accounts/user/{member_user.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert answer.status_code == 302
    member_user.refresh_from_db()
    assert member_user.check_password(new)
    assert not _usable(read_token)


def test_a_role_change_or_a_rehash_at_login_keeps_the_tokens(client, admin_user, read_token, member_user):
    member_user.role = User.Role.ADMIN
    member_user.save()
    User.objects.filter(pk=member_user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    assert client.post("/login/", {"username": member_user.username, "password": PASSWORD}).status_code == 302
    assert User.objects.get(pk=member_user.pk).password.startswith("argon2")  # rehashed: not a new password
    assert _usable(read_token)
