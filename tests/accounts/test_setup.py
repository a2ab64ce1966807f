"""First run: the setup token printed on the console creates the first admin, once."""

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import AuditEvent, User
from accounts.services.setup import setup_token_announce, setup_token_issue
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
FORGED = {"HTTP_X_FORWARDED_FOR": "127.0.0.1", "HTTP_X_REAL_IP": "127.0.0.1", "HTTP_FORWARDED": "for=127.0.0.1"}


def _form(token: str, username: str = "boss") -> dict:
    return {"token": token, "username": username, "email": "", "password1": PASSWORD, "password2": PASSWORD}


@pytest.mark.parametrize("path", ["/", "/login/", "/settings/", "/django-admin/", "/apps/"])
def test_it_sends_every_page_to_setup_while_no_admin_exists(client, setup_token, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/setup/"


def test_the_setup_page_gets_its_javascript_catalog(client, setup_token):
    response = client.get("/jsi18n/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")


def test_the_api_answers_as_usual_during_setup(client, setup_token):
    assert client.get("/api/me/").status_code == 401


def test_it_refuses_setup_without_the_token(client, setup_token):
    response = client.post("/setup/", _form(""), **FORGED)
    assert response.status_code == 200
    assert not User.objects.exists()


def test_it_refuses_a_wrong_token_even_from_a_claimed_localhost(client, setup_token):
    response = client.post("/setup/", _form("AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"), **FORGED)
    assert response.status_code == 200
    assert b"setup token is not right" in response.content
    assert not User.objects.exists()
    event = AuditEvent.objects.get(action="setup.failure")
    assert event.address == "127.0.0.1"  # the socket peer (the test client's), not a header
    assert setup_token not in str(event.details)


def test_it_creates_the_first_admin_and_closes_for_good(client, setup_token, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit, which the test's transaction holds
        response = client.post("/setup/", _form(setup_token.lower().replace("-", " ")))
    assert response.status_code == 302 and response["Location"] == "/settings/mfa/"
    admin = User.objects.get()
    assert admin.username == "boss" and admin.is_admin
    assert admin.password.startswith("argon2")
    assert not (settings.DATA_DIR / "setup-token").exists()
    assert AuditEvent.objects.filter(action="setup.completed", actor=admin).exists()
    # Closed: the page is gone, and the same token makes nobody else an admin.
    other = client.__class__()
    assert other.get("/setup/").status_code == 404
    assert other.post("/setup/", _form(setup_token, "intruder")).status_code == 404
    assert User.objects.count() == 1


def test_it_locks_the_address_after_repeated_wrong_tokens(client, setup_token, settings):
    settings.LOCKOUT_ADDRESS_FAILURES = 3
    for _ in range(3):
        client.post("/setup/", _form("WRONG-TOKEN"), HTTP_X_FORWARDED_FOR="10.9.9.9")
    response = client.post("/setup/", _form(setup_token), HTTP_X_FORWARDED_FOR="10.1.1.1")
    assert b"Too many failed attempts" in response.content
    assert not User.objects.exists()


def test_the_token_is_printed_logged_and_kept_private(db, caplog):
    lines = []
    token = setup_token_announce(lines.append)
    try:
        assert token and token in lines[0]
        assert token in caplog.text
        path = settings.DATA_DIR / "setup-token"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        # The next start prints the same token: `make run` runs preflight and then serve.
        assert setup_token_announce(lines.append) == token
    finally:
        (settings.DATA_DIR / "setup-token").unlink(missing_ok=True)


def _manage(data_dir, *args, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("CASAOS_", "DATABASE_URL"))}
    full_env.update(
        DJANGO_SETTINGS_MODULE="casaos_site.settings",
        CASAOS_DATA_DIR=str(data_dir),
        CASAOS_REDIS_URL="redis://127.0.0.1:6379/15",
        CASAOS_ENGINE_URL=f"unix://{data_dir}/none.sock",
        **env,
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_a_fresh_install_prints_the_token_until_a_headless_admin_exists(tmp_path):
    assert _manage(tmp_path, "migrate", "--noinput").returncode == 0
    first = _manage(tmp_path, "preflight")
    assert "setup token:" in first.stdout
    assert "setup token:" in (tmp_path / "logs" / "casaos.log").read_text()
    created = _manage(
        tmp_path,
        "createsuperuser",
        "--noinput",
        "--username",
        "headless",
        "--email",
        "h@x.test",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
    )
    assert created.returncode == 0, created.stderr
    assert not (tmp_path / "setup-token").exists()  # at once: nothing else needs to start first
    again = _manage(tmp_path, "preflight")
    assert "setup token" not in again.stdout
    assert not (tmp_path / "setup-token").exists()


def test_createsuperuser_noinput_makes_an_admin(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command(
        "createsuperuser", "--noinput", "--username", "headless", "--email", "h@example.test", stdout=io.StringIO()
    )
    user = User.objects.get(username="headless")
    assert user.role == User.Role.ADMIN and user.is_admin and user.check_password(PASSWORD)


def test_an_admin_made_on_the_console_deletes_the_setup_token(
    setup_token, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "createsuperuser", "--noinput", "--username", "headless", "--email", "h@example.test", stdout=io.StringIO()
        )
    assert not (settings.DATA_DIR / "setup-token").exists()


def test_a_member_made_first_leaves_the_setup_token(setup_token, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.create_user(username="member-first", password=PASSWORD)
    assert (settings.DATA_DIR / "setup-token").exists()


def test_a_setup_token_left_from_before_goes_at_the_next_request(client, admin_user):
    setup_token_issue()  # e.g. written before the admin was made by a path that did not remove it
    assert client.get("/login/").status_code == 200
    assert not (settings.DATA_DIR / "setup-token").exists()
