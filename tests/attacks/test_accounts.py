"""Accounts attacked through the real server (issue 12, items 10 to 13): a session id seen before the second factor,
the lockout as a way to keep the admin out, secrets read from a copy of the database, API tokens that outlive a
reset, a setup token that outlives setup."""

import base64
import re
import stat
import subprocess
import sys
import threading
import time

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import connection

from accounts.models import APIToken, AuditEvent, FailureCounter
from accounts.services.setup import setup_token_issue
from accounts.services.tokens import api_token_create
from tests.accounts.conftest import give_mfa, totp_code
from tests.attacks.conftest import Api, Browser
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.stack]
NEW_PASSWORD = "another long passphrase 7"


@pytest.fixture
def owner(live_stack, transactional_db):
    """The admin, with MFA: a TOTP key and backup codes."""
    user = UserFactory(admin=True, username="owner")
    user.backup_codes = [f"backup{n:04d}" for n in range(6)]
    user.totp_key = give_mfa(user, tuple(user.backup_codes))
    return user


# ---------------------------------------------------------------------------- 10: a new session key at every step
def test_a_session_id_seen_before_the_otp_step_is_worthless_after_it(live_stack, owner):
    victim = Browser(live_stack.url)
    assert victim.submit("/login/", {"username": "owner", "password": PASSWORD}).status_code == 302
    seen = victim.session_id  # on a shared screen, in a proxy's log, planted before the login...
    assert victim.submit("/accounts/login/otp/", {"code": totp_code(owner.totp_key)}).status_code == 302
    assert victim.logged_in_as() == "owner" and victim.session_id != seen
    thief = Browser(live_stack.url, "127.0.0.9")
    thief.session.cookies.set("sessionid", seen)
    assert thief.get("/api/me/").status_code in (401, 403)
    assert thief.get("/settings/users/").headers["Location"].startswith("/login/")


def test_a_step_up_leaves_the_session_id_it_had_worthless(live_stack, owner):
    browser = Browser(live_stack.url)
    browser.login("owner", PASSWORD, code=owner.backup_codes[0])
    seen = browser.session_id
    answer = browser.submit("/accounts/stepup/", {"password": PASSWORD, "code": owner.backup_codes[1]})
    assert answer.status_code == 302 and browser.session_id != seen
    thief = Browser(live_stack.url, "127.0.0.9")
    thief.session.cookies.set("sessionid", seen)
    assert thief.get("/api/me/").status_code in (401, 403)


# ---------------------------------------------------------------------------- 11: the lockout is no denial of service
def _hammer(url: str, address: str, stop: threading.Event, answers: list) -> None:
    attacker = Browser(url, address)
    while not stop.is_set():
        answers.append(attacker.submit("/login/", {"username": "owner", "password": "guess"}).status_code)


def test_an_address_hammering_the_admin_does_not_keep_them_out(live_stack, owner):
    stop, answers = threading.Event(), []
    hammer = threading.Thread(target=_hammer, args=(live_stack.url, "127.0.0.66", stop, answers))
    hammer.start()
    try:
        deadline = time.monotonic() + 120
        while answers.count(429) < 3 and time.monotonic() < deadline:  # past its 5 failures, and still at it
            time.sleep(0.2)
        me = Browser(live_stack.url, "127.0.0.5")
        answer = me.login("owner", PASSWORD, code=totp_code(owner.totp_key))
        assert answer.status_code == 302, answer.text
        assert me.logged_in_as() == "owner"
    finally:
        stop.set()
        hammer.join()
    assert answers[:5] == [200] * 5 and set(answers[5:]) == {429}
    assert AuditEvent.objects.filter(action="lockout.started", target="owner 127.0.0.66").exists()
    account = FailureCounter.objects.get(kind="account", key="owner")
    assert account.failures == 5 and not account.is_locked()  # refused attempts are not failures of the account


def test_failures_from_many_addresses_delay_the_admin_and_never_lock_them_out(live_stack, owner):
    failures = 0
    for n in range(40):
        attacker = Browser(live_stack.url, f"127.0.1.{n % 6 + 1}")  # each stays under its pair's lock
        answer = attacker.submit("/login/", {"username": "owner", "password": f"guess {n}"})
        if answer.status_code == 429:
            time.sleep(int(answer.headers["Retry-After"]))  # a patient attacker waits out each delay
        else:
            failures += 1
        if failures == settings.LOCKOUT_THROTTLE_AFTER + 2:  # delays of 1 s, 2 s, now 4 s
            break
    me = Browser(live_stack.url, "127.0.0.5")
    started = time.monotonic()
    waiting = me.submit("/login/", {"username": "owner", "password": PASSWORD})
    assert time.monotonic() - started < 3  # an answer at once, not a worker asleep
    assert waiting.status_code == 429 and 1 <= int(waiting.headers["Retry-After"]) <= 4
    assert "Try again in" in waiting.text
    time.sleep(int(waiting.headers["Retry-After"]))
    assert me.login("owner", PASSWORD, code=totp_code(owner.totp_key)).status_code == 302
    assert me.logged_in_as() == "owner"
    told = AuditEvent.objects.get(action="lockout.throttled")
    assert told.target == "owner" and told.details["failures"] == settings.LOCKOUT_THROTTLE_AFTER


# ---------------------------------------------------------------------------- 12: secrets at rest
def _database_text() -> bytes:
    """Everything a copy of the database holds: every row of every table, and for SQLite the files themselves."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump.append(repr(cursor.fetchall()).encode())
    if connection.vendor == "sqlite":
        name = connection.settings_dict["NAME"]
        for path in (name, f"{name}-wal"):
            dump.append(open(path, "rb").read())  # noqa: PTH123, SIM115
    return b"\n".join(dump)


def _stored_key(user) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM accounts_authenticator WHERE user_id = %s AND confirmed", [user.pk])
        return cursor.fetchone()[0]


def test_a_copy_of_the_database_shows_no_totp_key_and_no_backup_code(live_stack, transactional_db):
    user = UserFactory(username="enrolled")
    browser = Browser(live_stack.url)
    browser.login("enrolled", PASSWORD)
    shown = re.search(r'id="totp-key">([A-Z2-7]+)<', browser.get("/settings/mfa/").text).group(1)
    key = base64.b32decode(shown)
    done = browser.submit("/settings/mfa/", {"code": totp_code(key)})
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.text)
    assert len(codes) == 10
    dump = _database_text()
    for secret in (key.hex(), shown, *codes):
        assert secret.encode() not in dump
    stored = _stored_key(user)
    keys = settings.CREDENTIALS_KEY_FILE.read_text().split()
    assert Fernet(keys[0]).decrypt(stored.encode()).decode() == key.hex()
    assert stat.S_IMODE(settings.CREDENTIALS_KEY_FILE.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.DATA_DIR.stat().st_mode) == 0o700
    again = Browser(live_stack.url, "127.0.0.8")
    assert again.login("enrolled", PASSWORD, code=codes[3]).status_code == 302
    assert again.logged_in_as() == "enrolled"


def _manage(live_stack, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**live_stack.env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_key_rotates_while_the_server_runs_and_logins_go_on(live_stack, owner):
    before = _stored_key(owner)
    old_keys = settings.CREDENTIALS_KEY_FILE.read_text().split()
    rotated = _manage(live_stack, "rotate_credentials_key")
    assert rotated.returncode == 0, rotated.stderr
    assert "1 stored credential(s) re-encrypted" in rotated.stdout
    new_keys = settings.CREDENTIALS_KEY_FILE.read_text().split()
    assert len(new_keys) == 1 and new_keys[0] not in old_keys
    assert stat.S_IMODE(settings.CREDENTIALS_KEY_FILE.stat().st_mode) == 0o600
    after = _stored_key(owner)
    assert after != before
    with pytest.raises(InvalidToken):
        Fernet(old_keys[0]).decrypt(after.encode())  # a leaked copy of the old key file opens nothing now
    me = Browser(live_stack.url)
    assert me.login("owner", PASSWORD, code=totp_code(owner.totp_key)).status_code == 302
    assert me.logged_in_as() == "owner"


# ---------------------------------------------------------------------------- 13: tokens and setup
def test_an_admins_reset_of_the_password_revokes_the_users_tokens(live_stack, transactional_db):
    admin = UserFactory(admin=True, username="boss")
    member = UserFactory(username="scripted")
    admin_api = Api(live_stack.url, api_token_create(user=admin, name="admin", scope=APIToken.Scope.FULL)[1])
    script = Api(live_stack.url, api_token_create(user=member, name="backup script", scope=APIToken.Scope.FULL)[1])
    assert script.get("/api/me/").status_code == 200
    assert admin_api.patch(f"/api/users/{member.pk}/", json={"password": NEW_PASSWORD}).status_code == 200
    assert script.get("/api/me/").status_code == 401
    revoked = AuditEvent.objects.get(action="token.revoked")
    assert revoked.details == {"owner": "scripted", "reason": "password changed"}


def test_an_admins_removal_of_the_mfa_revokes_the_users_tokens(live_stack, transactional_db):
    UserFactory(admin=True, username="boss")
    member = UserFactory(username="phone-lost")
    give_mfa(member)
    script = Api(live_stack.url, api_token_create(user=member, name="cron", scope=APIToken.Scope.READ)[1])
    admin = Browser(live_stack.url)
    admin.login("boss", PASSWORD)  # a fresh login counts as a step-up
    answer = admin.submit(f"/settings/users/{member.pk}/mfa-remove/", {}, form=f"/settings/users/{member.pk}/")
    assert answer.status_code == 302
    assert script.get("/api/me/").status_code == 401


def test_a_password_changed_by_its_owner_revokes_their_tokens(live_stack, transactional_db):
    user = UserFactory(username="careful")
    script = Api(live_stack.url, api_token_create(user=user, name="cron", scope=APIToken.Scope.READ)[1])
    me = Browser(live_stack.url)
    me.login("careful", PASSWORD)
    form = {"old_password": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    answer = me.submit("/settings/", form)
    assert answer.status_code == 302
    assert "1 API token(s) revoked" in me.get("/settings/").text
    assert script.get("/api/me/").status_code == 401
    assert me.logged_in_as() == "careful"  # this session stays


def test_a_headless_createsuperuser_deletes_the_setup_token(live_stack, transactional_db):
    token_file = settings.DATA_DIR / "setup-token"
    token = setup_token_issue()
    try:
        browser = Browser(live_stack.url)
        assert browser.get("/").headers["Location"] == "/setup/"
        created = _manage(
            live_stack,
            "createsuperuser",
            "--noinput",
            "--username",
            "headless",
            "--email",
            "h@example.test",
            DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        )
        assert created.returncode == 0, created.stderr
        assert not token_file.exists()  # at once, before any page or restart noticed the admin
        assert browser.get("/setup/").status_code == 404
        form = {"token": token, "username": "intruder", "password1": PASSWORD, "password2": PASSWORD}
        assert browser.submit("/setup/", form, form="/login/").status_code == 404
    finally:
        token_file.unlink(missing_ok=True)
