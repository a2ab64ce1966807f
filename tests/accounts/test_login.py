"""Login: no enumeration; locks per (account, address) and per address, delays per account (never a lock another
address can cause); forged proxy headers change nothing."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory

from accounts.models import AuditEvent, FailureCounter, UserSession
from accounts.net import client_address
from tests.factories import PASSWORD


def _login(client, username, password, **headers):
    return client.post("/login/", {"username": username, "password": password}, **headers)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _page_text(response) -> str:
    # The CSRF token differs per response; everything else must be identical.
    return re.sub(r"[A-Za-z0-9]{64}", "", response.content.decode())


def test_it_logs_in_records_the_session_and_audits(client, member_user):
    response = _login(client, "member", PASSWORD, HTTP_USER_AGENT="Firefox on Linux")
    assert response.status_code == 302 and response["Location"] == "/"
    client.get("/")
    row = UserSession.objects.get(user=member_user)
    assert row.user_agent == "Firefox on Linux" and row.address == "127.0.0.1"
    assert AuditEvent.objects.filter(action="login.success", actor=member_user).exists()


def test_unknown_user_and_wrong_password_answer_the_same(client, member_user):
    unknown = _login(client, "nobody-here", "wrong password 1")
    wrong = _login(Client(), "member", "wrong password 1")
    assert unknown.status_code == wrong.status_code == 200
    assert _page_text(unknown).replace("nobody-here", "member") == _page_text(wrong)
    events = AuditEvent.objects.filter(action="login.failure")
    assert events.count() == 2
    assert all("wrong password" not in str(e.details) for e in events)


def _elapse(seconds: float) -> None:
    """Move every failure and lock into the past, as if the time had passed."""
    for counter in FailureCounter.objects.all():
        counter.last_failure_at -= timedelta(seconds=seconds)
        counter.locked_until = counter.locked_until and counter.locked_until - timedelta(seconds=seconds)
        counter.save()


def test_it_locks_the_account_from_that_address_and_refuses_the_right_password(client, member_user, settings):
    settings.LOCKOUT_ACCOUNT_FAILURES = 3
    for n in range(3):
        # Rotating X-Forwarded-For must not make each attempt look like a new client.
        _login(client, "member", f"wrong {n}", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = _login(Client(), "member", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 429 and b"Too many failed attempts" in response.content
    assert not _logged_in(client)
    assert AuditEvent.objects.filter(action="lockout.started", target="member 127.0.0.1").exists()
    assert not AuditEvent.objects.filter(action="login.success").exists()


def test_failures_from_other_addresses_only_delay_the_account(client, member_user, settings):
    settings.LOCKOUT_THROTTLE_AFTER = 3
    for n in range(3):
        _login(Client(), "member", f"wrong {n}", REMOTE_ADDR=f"203.0.113.{n}")
    waiting = _login(client, "member", PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert waiting.status_code == 429 and waiting["Retry-After"] == "1"
    assert b"Try again in 1 second." in waiting.content and not _logged_in(client)
    _elapse(1)
    assert _login(client, "member", PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302
    assert _logged_in(client)
    throttled = AuditEvent.objects.get(action="lockout.throttled")
    assert throttled.target == "member" and throttled.details["failures"] == 3


def test_the_delays_grow_with_each_failure_up_to_the_cap(member_user, settings):
    settings.LOCKOUT_THROTTLE_AFTER = 2
    settings.LOCKOUT_DELAY_MAX = 5
    waits = []
    for n in range(6):
        _login(Client(), "member", "wrong", REMOTE_ADDR=f"203.0.113.{n}")
        counter = FailureCounter.objects.get(kind="account", key="member")
        waits.append(
            round((counter.locked_until - counter.last_failure_at).total_seconds()) if counter.locked_until else 0
        )
        _elapse(60)
    assert waits == [0, 1, 2, 4, 5, 5]


def test_attempts_refused_during_a_delay_neither_count_nor_extend_it(client, member_user, settings):
    settings.LOCKOUT_THROTTLE_AFTER = 2
    for n in range(2):
        _login(Client(), "member", "wrong", REMOTE_ADDR=f"203.0.113.{n}")
    _elapse(-60)  # the 1 s delay still runs a minute from now, however slowly a loaded machine sends the five
    before = FailureCounter.objects.get(kind="account", key="member")
    for _ in range(5):  # an attacker hammering to keep the owner out
        assert _login(Client(), "member", "wrong", REMOTE_ADDR="203.0.113.9").status_code == 429
    after = FailureCounter.objects.get(kind="account", key="member")
    assert (after.failures, after.locked_until) == (before.failures, before.locked_until)
    assert FailureCounter.objects.get(kind="address", key="203.0.113.9").failures == 5  # hammering is not free
    assert AuditEvent.objects.filter(action="login.throttled").count() == 5
    _elapse(61)
    assert _login(client, "member", PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_unknown_names_lock_like_real_ones(client, db, settings):
    settings.LOCKOUT_ACCOUNT_FAILURES = 2
    for _ in range(2):
        _login(client, "ghost", "x")
    assert b"Too many failed attempts" in _login(client, "ghost", "x").content


def test_it_locks_the_address_across_account_names(client, member_user, settings):
    settings.LOCKOUT_ADDRESS_FAILURES = 4
    for n in range(4):
        _login(client, f"guess{n}", "x", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = _login(Client(), "member", PASSWORD)
    assert b"Too many failed attempts" in response.content
    assert FailureCounter.objects.get(kind="address").key == "127.0.0.1"


def test_attempts_on_a_locked_name_still_count_toward_the_address_lock(client, member_user, settings):
    # Each attempt costs a full password hash: hammering a locked name must not be free.
    settings.LOCKOUT_ACCOUNT_FAILURES = 2
    settings.LOCKOUT_ADDRESS_FAILURES = 4
    for _ in range(4):
        _login(client, "ghost", "x")
    assert AuditEvent.objects.filter(action="login.refused_locked", target="ghost").count() == 2
    member = Client()
    assert b"Too many failed attempts" in _login(member, "member", PASSWORD).content
    assert not _logged_in(member)


def test_unlock_command_lifts_the_lock(client, member_user, settings):
    settings.LOCKOUT_ACCOUNT_FAILURES = 2
    for _ in range(2):
        _login(client, "member", "wrong")
    call_command("unlock", "member", "--address", "127.0.0.1")
    assert _login(client, "member", PASSWORD).status_code == 302
    assert _logged_in(client)


def test_an_admin_unlocks_from_the_user_page(client, admin_user, member_user, settings):
    settings.LOCKOUT_ACCOUNT_FAILURES = 2
    for _ in range(2):
        _login(Client(), "member", "wrong", REMOTE_ADDR="10.1.1.1")
    client.force_login(admin_user)
    page = client.get(f"/settings/users/{member_user.pk}/").content.decode()
    assert (
        "Unlock" in page and "Locked from 10.1.1.1 (" in page and "the lock ends <time" in page
    )  # where, and when it ends
    assert b"locked" in client.get("/settings/users/").content
    client.post(f"/settings/users/{member_user.pk}/unlock/")
    assert _login(Client(), "member", PASSWORD, REMOTE_ADDR="10.1.1.1").status_code == 302


def test_a_member_cannot_unlock(client, member_user, admin_user, settings):
    settings.LOCKOUT_ACCOUNT_FAILURES = 1
    _login(Client(), "admin", "wrong")
    client.force_login(member_user)
    assert client.post(f"/settings/users/{admin_user.pk}/unlock/").status_code == 403
    assert FailureCounter.objects.filter(kind="pair", key="admin 127.0.0.1", locked_until__isnull=False).exists()


def test_a_disabled_user_gets_the_same_answer_as_a_wrong_password(client, member_user):
    member_user.is_active = False
    member_user.save()
    response = _login(client, "member", PASSWORD)
    assert b"do not match" in response.content
    assert not _logged_in(client)


def test_a_safe_next_is_followed_and_a_foreign_one_is_not(client, member_user):
    ok = client.post("/login/", {"username": "member", "password": PASSWORD, "next": "/apps/"})
    assert ok["Location"] == "/apps/"
    other = Client()
    evil = other.post("/login/", {"username": "member", "password": PASSWORD, "next": "https://evil.example/"})
    assert evil["Location"] == "/"


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        ([], "192.0.2.1", "127.0.0.1", "192.0.2.1"),  # no trusted proxy: the header is ignored
        (["192.0.2.1"], "192.0.2.1", "198.51.100.9", "198.51.100.9"),
        (["192.0.2.1"], "192.0.2.1", "127.0.0.1, 198.51.100.9", "198.51.100.9"),  # a client-supplied prefix loses
        (["192.0.2.0/24"], "198.51.100.5", "127.0.0.1", "198.51.100.5"),  # the peer is no proxy of ours
        (["192.0.2.1"], "192.0.2.1", "garbage", "192.0.2.1"),
    ],
)
def test_client_address_trusts_forwarded_headers_only_from_configured_proxies(
    settings, proxies, peer, forwarded, expected
):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected
