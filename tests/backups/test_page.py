"""The Backups page, the recovery sheet and the snapshot browser: admins only, CSRF, a password shown once."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from backups.models import BackupJob, Repository, Snapshot
from tests.clients import logged_in

pytestmark = pytest.mark.django_db


def test_members_reach_none_of_it(member_user, repository):
    client = logged_in(member_user)
    assert client.get("/backups/").status_code == 403
    assert client.get(f"/backups/repositories/{repository.pk}/recovery/").status_code == 403
    assert client.post("/backups/jobs/", {"name": "x", "repository": repository.pk}).status_code == 403
    assert not BackupJob.objects.exists()
    assert Repository.objects.get().password_shown is False  # the member's visit revealed nothing


def test_connecting_shows_the_recovery_sheet_once(admin_user, restic_present, repo_dir):
    client = logged_in(admin_user)
    answer = client.post("/backups/repositories/", {"name": "disk", "kind": "local", "location": str(repo_dir)})
    repo = Repository.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/backups/repositories/{repo.pk}/recovery/"
    sheet = client.get(answer["Location"]).content.decode()
    assert repo.password in sheet and "manage.py restore" in sheet
    again = client.get(answer["Location"]).content.decode()
    assert repo.password not in again and "never shown again" in again
    assert repo.password not in client.get("/backups/").content.decode()


def test_a_post_without_csrf_changes_nothing(admin_user, repository):
    client = logged_in(admin_user, csrf=True)
    answer = client.post("/backups/jobs/", {"name": "x", "repository": repository.pk, "keep_last": 1})
    assert answer.status_code == 403 and not BackupJob.objects.exists()


def test_a_bad_job_shows_its_errors_and_saves_nothing(admin_user, repository):
    form = {"name": "j", "repository": repository.pk, "schedule": "nope", "folders": "../../etc", "keep_last": 1}
    form.update(keep_daily=0, keep_weekly=0, keep_monthly=0)
    answer = logged_in(admin_user).post("/backups/jobs/", form)
    assert answer.status_code == 400 and b"form-error" in answer.content and not BackupJob.objects.exists()


def test_the_page_lists_a_run_and_the_browser_a_snapshot(admin_user, repository, photos):
    from backups.services import job_run_queue, run_backup

    client = logged_in(admin_user)
    job = BackupJob.objects.create(
        name="photos", repository=repository, created_by=admin_user, include_system=False, folders=["Photos"]
    )
    client.post(f"/backups/jobs/{job.pk}/run/")
    run_backup(run_id=job.runs.get().pk)
    page = client.get("/backups/").content.decode()
    assert "photos" in page and "Done" in page
    snap = Snapshot.objects.get()
    browser = client.get(f"/backups/snapshots/{snap.pk}/").content.decode()
    assert "a.txt" in browser and f'value="{photos / "a.txt"}"' in browser
    assert job_run_queue  # the page's button and the API call the same service


def _session_headers(user) -> list[tuple[bytes, bytes]]:
    client = logged_in(user)
    cookie = client.cookies["sessionid"].value
    return [(b"cookie", f"sessionid={cookie}".encode()), (b"host", b"testserver"), (b"origin", b"http://testserver")]


def _socket(user, publish_after_connect=None):
    from casaos_site.asgi import application

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/backups/", headers=_session_headers(user))
        connected, code = await socket.connect(timeout=5)
        got = None
        if connected and publish_after_connect:
            await database_sync_to_async(publish_after_connect)()
            got = json.loads(await socket.receive_from(timeout=5))
        await socket.disconnect()
        return connected, code, got

    return async_to_sync(scenario)()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_socket_refuses_members_and_tells_admins(redis_client, member_user, admin_user):
    from casaos_site.events import publish

    connected, code, _ = _socket(member_user)
    assert not connected and code == 4403
    connected, _, got = _socket(admin_user, lambda: publish("backups", "backups.run", {"id": 1, "status": "running"}))
    assert connected and got == {"event": "backups.run", "data": {"id": 1, "status": "running"}}


def test_the_repository_for_updates_is_chosen_on_the_page(admin_user, member_user, repository):
    url = f"/backups/repositories/{repository.pk}/for-updates/"
    assert logged_in(member_user).post(url, {"on": "1"}).status_code == 403
    assert logged_in(admin_user, csrf=True).post(url, {"on": "1"}).status_code == 403
    client = logged_in(admin_user)
    assert client.post(url, {"on": "1"}).status_code == 302
    assert Repository.objects.get().for_updates
    assert "Stop snapshots before updates" in client.get("/backups/").content.decode()
    client.post(url, {"on": "0"})
    assert not Repository.objects.get().for_updates


def test_the_forms_put_help_text_under_the_input_like_the_rest_of_the_site(admin_user, repository):
    page = logged_in(admin_user).get("/backups/").content.decode()
    label, field, help_text = (page.index(s) for s in ('for="id_location"', 'name="location"', "A folder, host:/path"))
    assert label < field < help_text  # as_div put the help text between the label and the input
    assert "<legend>Apps with their data</legend>" in page


def test_an_app_snapshot_offers_to_its_place_or_as_a_copy(admin_user, member_user, repository):
    from django.utils import timezone

    from backups.models import JobRun

    snap = Snapshot.objects.create(
        repository=repository, restic_id="ab" * 32, short_id="abababab", time=timezone.now(), kind="app", subject="web"
    )
    client = logged_in(admin_user)
    page = client.get("/backups/").content.decode()
    assert f'data-confirm-dialog="restore-dialog-{snap.pk}"' in page
    assert 'name="where" value="place"' in page and 'name="where" value="copy"' in page
    url = f"/backups/snapshots/{snap.pk}/restore/"
    assert logged_in(member_user).post(url, {"where": "copy", "as_name": "web2"}).status_code == 403
    assert logged_in(admin_user, csrf=True).post(url, {"where": "copy", "as_name": "web2"}).status_code == 403
    answer = client.post(url, {"where": "copy", "as_name": " "})
    assert answer.status_code == 400 and "Give the copy a name." in answer.content.decode()
    answer = client.post(url, {"where": "copy", "as_name": "web2"})  # the app is not installed here
    assert answer.status_code == 400 and "a copy is made from an installed app" in answer.content.decode()
    answer = client.post(url, {"where": "place", "as_name": "ignored"})
    assert answer.status_code == 400 and "the app web is not installed" in answer.content.decode()
    assert not JobRun.objects.exists()
