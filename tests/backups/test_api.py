"""The backups API: admins only, CSRF, a password shown once, nothing half-made on bad input."""

import pytest
from django.db import connection

from backups.models import BackupJob, JobRun, Repository
from tests.clients import logged_in

pytestmark = pytest.mark.django_db

ROUTES = [
    ("get", "/api/backups/repositories/"),
    ("post", "/api/backups/repositories/"),
    ("get", "/api/backups/jobs/"),
    ("post", "/api/backups/jobs/"),
    ("get", "/api/backups/snapshots/"),
    ("post", "/api/backups/jobs/1/run/"),
    ("post", "/api/backups/snapshots/1/restore/"),
]


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_it_refuses_members(member_user, method, url, tmp_path):
    client = logged_in(member_user)
    answer = getattr(client, method)(url, {"name": "x", "kind": "local", "location": str(tmp_path)}, "application/json")
    assert answer.status_code == 403
    assert not Repository.objects.exists() and not BackupJob.objects.exists() and not JobRun.objects.exists()


def test_it_refuses_a_post_without_csrf(admin_user, tmp_path):
    client = logged_in(admin_user, csrf=True)
    answer = client.post(
        "/api/backups/repositories/",
        {"name": "x", "kind": "local", "location": str(tmp_path / "r")},
        "application/json",
    )
    assert answer.status_code == 403
    assert not Repository.objects.exists() and not (tmp_path / "r").exists()


def test_it_shows_a_generated_password_once(admin_client, restic_present, repo_dir):
    answer = admin_client.post(
        "/api/backups/repositories/", {"name": "disk", "kind": "local", "location": str(repo_dir)}, "application/json"
    )
    assert answer.status_code == 201, answer.content
    password = answer.json()["password"]
    assert len(password) == 47 and (repo_dir / "config").exists()
    listed = admin_client.get("/api/backups/repositories/").content.decode()
    detail = admin_client.get(f"/api/backups/repositories/{answer.json()['id']}/").content.decode()
    assert password not in listed and password not in detail and "password" not in listed
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM backups_repository")
        (stored,) = cursor.fetchone()
    assert password not in stored  # encrypted at rest
    assert Repository.objects.get().password == password


def test_it_never_shows_the_password_twice(admin_user, repository):
    from backups.services import repository_password_reveal

    assert repository_password_reveal(user=admin_user, repository=repository) == repository.password
    assert repository_password_reveal(user=admin_user, repository=repository) is None


def test_it_refuses_a_target_inside_the_data_directory(admin_client, settings):
    answer = admin_client.post(
        "/api/backups/repositories/",
        {"name": "x", "kind": "local", "location": str(settings.DATA_DIR / "b")},
        "application/json",
    )
    assert answer.status_code == 400 and not Repository.objects.exists()


def test_it_connects_an_existing_repository_with_its_password_only(admin_client, repository, repo_dir):
    body = {"name": "again", "kind": "local", "location": str(repo_dir), "password": "wrong"}
    answer = admin_client.post("/api/backups/repositories/", body, "application/json")
    assert answer.status_code == 400 and answer.json()["detail"] == "wrong repository password"
    body["password"] = repository.password
    answer = admin_client.post("/api/backups/repositories/", body, "application/json")
    assert answer.status_code == 201 and "password" not in answer.json()


def test_it_refuses_a_bad_schedule_and_a_folder_outside_the_roots(admin_client, repository):
    base = {"name": "j", "repository": repository.pk, "include_system": False}
    bad_cron = admin_client.post("/api/backups/jobs/", {**base, "schedule": "every day"}, "application/json")
    outside = admin_client.post("/api/backups/jobs/", {**base, "folders": ["../../etc"]}, "application/json")
    assert bad_cron.status_code == 400 and outside.status_code == 400
    assert not BackupJob.objects.exists()


def test_it_queues_a_run_and_refuses_a_second_while_the_first_runs(admin_client, repository, photos):
    job = admin_client.post(
        "/api/backups/jobs/",
        {"name": "p", "repository": repository.pk, "include_system": False, "folders": ["Photos"]},
        "application/json",
    )
    assert job.status_code == 201, job.content
    first = admin_client.post(f"/api/backups/jobs/{job.json()['id']}/run/")
    second = admin_client.post(f"/api/backups/jobs/{job.json()['id']}/run/")
    assert first.status_code == 202 and second.status_code == 400
    assert JobRun.objects.count() == 1


def test_a_copy_needs_an_installed_app_and_a_free_name(admin_user, repository):
    from django.utils import timezone

    from apps.models import Installation
    from backups.models import Snapshot

    snap = Snapshot.objects.create(
        repository=repository, restic_id="ab" * 32, short_id="abababab", time=timezone.now(), kind="app", subject="gone"
    )
    client = logged_in(admin_user)
    answer = client.post(
        f"/api/backups/snapshots/{snap.pk}/restore/", {"as_name": "gone2"}, content_type="application/json"
    )
    assert answer.status_code == 400 and "installed app" in answer.json()["detail"]
    Snapshot.objects.filter(pk=snap.pk).update(kind="folder")
    answer = client.post(
        f"/api/backups/snapshots/{snap.pk}/restore/", {"as_name": "x"}, content_type="application/json"
    )
    assert answer.status_code == 400
    assert not JobRun.objects.exists() and not Installation.objects.exists()
