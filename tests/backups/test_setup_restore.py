"""The setup page's "Restore from backup": the setup token is required, the request waits in a 0600 file, the
progress answers only the holder of its watch key, and a real restore on a fresh supervised stack ends with the old
admin logging in with password and code."""

import json
import os
import stat
from unittest import mock

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from backups.services import box
from backups.services.box import box_restore_run, box_restore_status
from casaos_site.asgi import application

pytestmark = pytest.mark.django_db

TOKEN = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX"


@pytest.fixture
def setup_token(settings):
    path = settings.DATA_DIR / "setup-token"
    path.write_text(TOKEN)
    yield TOKEN
    path.unlink(missing_ok=True)
    for name in (box.REQUEST_FILE, box.STATUS_FILE):
        (settings.DATA_DIR / name).unlink(missing_ok=True)


def _form(repo_dir, **extra) -> dict:
    return {"token": TOKEN, "kind": "local", "location": str(repo_dir), "password": "pw-123", **extra}


def test_a_wrong_token_is_a_form_error_and_nothing_waits(setup_token, repo_dir, settings):
    answer = Client().post(reverse("setup-restore"), _form(repo_dir, token="WRONG"))
    assert answer.status_code == 400
    assert "That setup token is not right." in answer.content.decode()
    assert not (settings.DATA_DIR / box.REQUEST_FILE).exists()
    assert box_restore_status() == {}


def test_a_location_inside_the_data_directory_is_refused(setup_token, settings):
    answer = Client().post(reverse("setup-restore"), _form(settings.DATA_DIR / "repo"))
    assert answer.status_code == 400
    assert not (settings.DATA_DIR / box.REQUEST_FILE).exists()


def test_after_setup_the_restore_page_does_not_exist(setup_token, admin_user, repo_dir):
    assert Client().get(reverse("setup-restore")).status_code == 404
    assert Client().post(reverse("setup-restore"), _form(repo_dir)).status_code == 404


def test_a_request_waits_0600_and_a_second_one_is_refused(setup_token, repo_dir, settings):
    answer = Client().post(reverse("setup-restore"), _form(repo_dir))
    assert answer.status_code == 302
    request_file = settings.DATA_DIR / box.REQUEST_FILE
    assert stat.S_IMODE(request_file.stat().st_mode) == 0o600
    assert json.loads(request_file.read_text())["password"] == "pw-123"
    assert box_restore_status()["state"] == "queued"

    again = Client().post(reverse("setup-restore"), _form(repo_dir))
    assert again.status_code == 400 and "A restore is already going on." in again.content.decode()

    watch = answer.url.rstrip("/").rsplit("/", 1)[-1]
    page = Client().get(answer.url)
    assert page.status_code == 200 and f"/ws/setup/restore/{watch}/" in page.content.decode()
    assert Client().get(reverse("setup-restore-progress", args=["not-the-key"])).status_code == 404
    assert Client().get(reverse("setup-restore-status", args=["not-the-key"])).status_code == 404


def test_a_failed_restore_says_why_and_takes_the_password_away(setup_token, repo_dir, restic_present, settings):
    # No repository at that folder: restic's own error, in words.
    Client().post(reverse("setup-restore"), _form(repo_dir))
    assert box_restore_run() is False
    status = box_restore_status()
    assert status["state"] == "failed" and "no repository" in status["error"]
    assert not (settings.DATA_DIR / box.REQUEST_FILE).exists()
    assert "pw-123" not in (settings.DATA_DIR / box.STATUS_FILE).read_text()
    assert AuditEvent.objects.filter(action="backups.box_restore_failed", target=str(repo_dir)).exists()


def test_a_running_restore_whose_worker_died_is_failed(setup_token, settings):
    box._status_write({"state": "running", "pid": 2**22 + 12345, "lines": [], "watch": "x"})
    status = box_restore_status()
    assert status["state"] == "failed" and "worker stopped" in status["error"]


def test_the_progress_socket_answers_only_the_watch_key(setup_token, repo_dir, redis_client):
    answer = Client().post(reverse("setup-restore"), _form(repo_dir))
    watch = answer.url.rstrip("/").rsplit("/", 1)[-1]
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]

    async def scenario(key):
        socket = WebsocketCommunicator(application, f"/ws/setup/restore/{key}/", headers=headers)
        connected, _ = await socket.connect(timeout=10)
        first = await socket.receive_from(timeout=10) if connected else ""
        await socket.disconnect()
        return connected, first

    assert async_to_sync(scenario)("not-the-key")[0] is False
    connected, first = async_to_sync(scenario)(watch)
    assert connected and 'id="box-restore-status"' in first and 'data-state="queued"' in first


def test_a_process_whose_secret_key_was_replaced_answers_503_and_restarts(settings, client, tmp_path):
    from casaos_site import restart

    # A data directory of the test's own: the live stack's server reads the real key file and would restart too.
    settings.DATA_DIR = tmp_path
    key_file = tmp_path / "secret_key"
    key_file.write_text(settings.SECRET_KEY)
    with mock.patch.object(restart, "restart_soon") as restart_soon, mock.patch.object(restart, "CHECK_SECONDS", 0):
        assert client.get(reverse("login")).status_code == 200
        key_file.write_text("x" * 60)
        os.utime(key_file, ns=(1, 1))  # another modification time even within the same clock tick
        answer = client.get(reverse("login"))
    assert answer.status_code == 503 and answer["Retry-After"] == "3"
    restart_soon.assert_called_once()


# ---------------------------------------------------------------------------- the whole thing, in a browser
@pytest.mark.django_db(transaction=True)
def test_a_fresh_box_is_restored_from_the_setup_page_and_the_old_admin_logs_in(
    restic_present, repository, page, settings
):
    from backups.models import BackupJob
    from backups.services import job_run_queue, run_backup
    from bench._stack import running
    from tests.accounts.conftest import give_mfa, totp_code
    from tests.factories import PASSWORD, UserFactory

    boss = UserFactory(admin=True, username="boss")
    key = give_mfa(boss)
    job = BackupJob.objects.create(name="box", repository=repository, created_by=boss, include_system=True)
    assert run_backup(run_id=job_run_queue(user=boss, job=job).pk).status == "done"

    spare = os.environ["CASAOS_TEST_SPARE_REDIS_URL"]
    redis.Redis.from_url(spare).flushdb()
    quiet = {"CASAOS_WORKER_BEAT": "0", "CASAOS_WORKER_HOTPLUG": "0"}
    with running(spare, extra=quiet) as stack:
        url = f"http://{stack.bind}"
        page.goto(f"{url}/")
        page.click("text=Restore from backup")
        page.fill("#id_token", (stack.data / "setup-token").read_text())
        page.select_option("#id_kind", "local")
        page.fill("#id_location", repository.location)
        page.fill("#id_password", repository.password)
        page.click("button[type=submit]")
        page.wait_for_selector("#box-restore-status[data-state=done]", timeout=120_000)
        assert "The box is restored" in page.inner_text("#box-restore-status")
        page.wait_for_url(f"{url}/login/", timeout=90_000)  # after the web process started again

        page.fill("#id_username", "boss")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/login/otp/**")
        page.fill("#id_code", totp_code(key))
        page.press("#id_code", "Enter")  # (the page's first button is the header's "Log out")
        page.wait_for_url(lambda current: "/login" not in current)
        assert "boss" in page.inner_text("header")
        assert (stack.data / "secret_key").read_text() == (settings.DATA_DIR / "secret_key").read_text()
