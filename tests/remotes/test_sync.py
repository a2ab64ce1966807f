"""Sync jobs against a real WebDAV server: one way, both ways (bisync), progress events, schedules, failures."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from casaos_site import events
from notifications.models import Notification
from remotes import tasks
from remotes.models import Remote, SyncJob, SyncRun
from remotes.sync import is_due, sync_due, sync_run

from .conftest import PASSWORD, USER

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(monkeypatch):
    """Runs the test starts itself: nothing goes to a broker."""
    found = []
    monkeypatch.setattr(tasks.sync_run, "delay", lambda run_id: found.append(run_id))
    return found


@pytest.fixture
def progress():
    seen = []
    events.listen("remotes.sync", lambda event, data: seen.append(data))
    yield seen
    events._listeners.pop("remotes.sync", None)


@pytest.fixture
def cloud(webdav_server, remote_dirs, admin_user):
    client = APIClient()
    client.force_login(admin_user)
    made = client.post("/api/remotes/", {"name": "Cloud", "kind": "webdav", "secrets": {"pass": PASSWORD},
                       "options": {"url": f"http://127.0.0.1:{webdav_server.port}/", "user": USER}}, format="json")  # fmt: skip
    assert made.status_code == 201, made.content
    return client, Remote.objects.get(), webdav_server.folder, remote_dirs.parent / "files-root"


def add_job(client, remote, local: str, direction: str, **extra):
    data = {"remote": remote.pk, "remote_path": "photos", "local_path": local, "direction": direction, **extra}
    response = client.post("/api/remotes/sync/", data, format="json")
    assert response.status_code == 201, response.content
    return SyncJob.objects.get(pk=response.json()["id"])


def run_now(client, job, queued) -> SyncRun:
    started = client.post(f"/api/remotes/sync/{job.pk}/run/")
    assert started.status_code == 202
    return sync_run(run=SyncRun.objects.get(pk=queued.pop()))


def test_a_one_way_sync_copies_the_cloud_folder_with_progress(cloud, queued, progress):
    client, remote, served, root = cloud
    (served / "photos").mkdir()
    (served / "photos" / "a.jpg").write_bytes(b"a" * 3_000_000)
    (root / "Photos").mkdir()
    (root / "Photos" / "stale.txt").write_text("not in the cloud")
    job = add_job(client, remote, "Photos", "pull")
    run = run_now(client, job, queued)
    assert run.state == "done", run.message
    assert (root / "Photos" / "a.jpg").stat().st_size == 3_000_000 and not (root / "Photos" / "stale.txt").exists()
    assert run.bytes_done == run.bytes_total == 3_000_000 and run.percent == 100
    assert progress[0]["state"] == "running" and progress[-1]["state"] == "done"
    assert any(event.get("total") == 3_000_000 for event in progress)
    history = client.get(f"/api/remotes/sync/{job.pk}/").json()
    assert history[0]["state"] == "done"
    assert AuditEvent.objects.filter(action="remotes.sync_start").exists()


def test_a_push_sync_writes_the_local_folder_to_the_cloud(cloud, queued):
    client, remote, served, root = cloud
    (root / "Photos").mkdir()
    (root / "Photos" / "b.jpg").write_bytes(b"b")
    run = run_now(client, add_job(client, remote, "Photos", "push"), queued)
    assert run.state == "done", run.message
    assert (served / "photos" / "b.jpg").read_bytes() == b"b"


@pytest.fixture
def shell(sftp_server, remote_dirs, admin_user):
    """An SFTP remote: bisync needs modification times, which a plain WebDAV server does not keep."""
    client = APIClient()
    client.force_login(admin_user)
    options = {"host": "127.0.0.1", "port": sftp_server.port, "user": USER}
    made = client.post("/api/remotes/", {"name": "Shell", "kind": "sftp", "options": options,
                       "secrets": {"pass": PASSWORD}}, format="json")  # fmt: skip
    assert made.status_code == 201, made.content
    return client, Remote.objects.get(), sftp_server.folder, remote_dirs.parent / "files-root"


def test_a_two_way_sync_brings_changes_of_both_sides(shell, queued):
    client, remote, served, root = shell
    (served / "photos").mkdir()
    (served / "photos" / "cloud.txt").write_text("cloud")
    (root / "Photos").mkdir()
    (root / "Photos" / "local.txt").write_text("local")
    job = add_job(client, remote, "Photos", "both")
    first = run_now(client, job, queued)  # --resync: the union of both sides
    assert first.state == "done", first.message
    assert (root / "Photos" / "cloud.txt").exists() and (served / "photos" / "local.txt").exists()

    (served / "photos" / "cloud-2.txt").write_text("new in the cloud")
    (root / "Photos" / "local-2.txt").write_text("new here")
    (root / "Photos" / "local.txt").unlink()
    second = run_now(client, job, queued)
    assert second.state == "done", second.message
    assert (root / "Photos" / "cloud-2.txt").read_text() == "new in the cloud"
    assert (served / "photos" / "local-2.txt").read_text() == "new here"
    assert not (served / "photos" / "local.txt").exists()


def test_a_failed_sync_is_recorded_and_the_admins_are_told(cloud, queued, webdav_server):
    client, remote, _served, root = cloud
    (root / "Photos").mkdir()
    job = add_job(client, remote, "Photos", "pull")
    webdav_server.stop()
    run = run_now(client, job, queued)
    assert run.state == "failed" and run.message and PASSWORD not in run.message
    assert Notification.objects.filter(kind="remotes.sync_failed").exists()
    assert client.get("/api/remotes/sync/").json()[0]["last_run"]["state"] == "failed"


def test_a_local_folder_outside_the_roots_is_refused(cloud):
    client, remote, _served, _root = cloud
    for local in ("../", "/etc", "../../remotes-config"):
        response = client.post("/api/remotes/sync/", {"remote": remote.pk, "local_path": local, "direction": "pull"},
                               format="json")  # fmt: skip
        assert response.status_code in (400, 403, 404), (local, response.content)
    assert not SyncJob.objects.exists()


# ---------------------------------------------------------------------------- schedules
def _job(schedule: str, last_started=None) -> SyncJob:
    return SyncJob(schedule=schedule, enabled=True, last_started=last_started)


def at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 12, 7, hour, minute, second))  # a Monday


def test_a_schedule_is_due_in_the_minutes_it_names_once():
    assert is_due(_job("*/15 * * * *"), at(3, 30))
    assert not is_due(_job("*/15 * * * *"), at(3, 31))
    assert is_due(_job("0 3 * * 1"), at(3, 0, 40)) and not is_due(_job("0 3 * * 0"), at(3, 0))
    assert not is_due(_job("*/15 * * * *", last_started=at(3, 30, 5)), at(3, 30, 50))  # once a minute
    assert not is_due(_job(""), at(3, 30))


@pytest.mark.parametrize("schedule", ["* * *", "61 * * * *", "a b c d e", "* * * * * *"])
def test_a_schedule_that_cannot_be_read_is_refused(cloud, schedule):
    client, remote, _served, root = cloud
    (root / "Photos").mkdir()
    data = {"remote": remote.pk, "local_path": "Photos", "direction": "pull", "schedule": schedule}
    assert client.post("/api/remotes/sync/", data, format="json").status_code == 400


def test_the_beat_task_starts_what_is_due(cloud, queued):
    client, remote, _served, root = cloud
    (root / "Photos").mkdir()
    due = add_job(client, remote, "Photos", "pull", schedule="* * * * *")
    add_job(client, remote, "Photos", "pull", schedule="")
    started = sync_due()
    assert [SyncRun.objects.get(pk=pk).job_id for pk in started] == [due.pk] and queued == started
    assert sync_due() == []  # not twice in the same minute
