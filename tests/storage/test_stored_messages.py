"""Storage refusals and the errors its tasks store (a format job, a mount that did not come back) are English
message ids with parameters: each reader sees them in their own language, on the API and the page."""

import pytest
from django.test import Client
from django.utils import translation

from accounts.services.language import user_language_set
from casaos_site.i18n import shown
from storage import formatting
from storage.models import Disk, DiskJob, Mount
from storage.mounts import reapply_one
from tests.clients import logged_in

pytestmark = pytest.mark.django_db
GONE = {
    "en": "Test Disk (test-i18n) is not attached now.",
    "de": "Test Disk (test-i18n) ist gerade nicht angeschlossen.",
    "zh-hans": "Test Disk (test-i18n) 当前未连接。",
}


@pytest.fixture
def gone_disk(monkeypatch):
    monkeypatch.setattr(formatting, "inventory_refresh", lambda: None)  # the disk stays as the test left it
    return Disk.objects.create(stable_id="test-i18n", id_kind="serial", name="sdz", model="Test Disk", present=False)


def _client(user) -> Client:
    return logged_in(user, stepped_up=True)


def test_a_failed_format_job_is_read_in_each_readers_language(gone_disk, admin, no_broker_messages):
    job = DiskJob.objects.create(disk=gone_disk, fstype="ext4", label="X", requested_by=admin)
    with translation.override("de"):  # whatever language the worker happens to be in
        formatting.disk_format_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == DiskJob.Status.FAILED
    for language, text in GONE.items():
        with translation.override(language):
            assert shown(job.error) == text
    with translation.override("de"):
        assert shown(job.step) == "fehlgeschlagen"


def test_an_unexpected_error_fails_the_job_instead_of_leaving_it_running(gone_disk, admin, monkeypatch, caplog):
    def broken(disk):
        raise RuntimeError("the table vanished")

    monkeypatch.setattr(formatting, "check_may_format", broken)
    job = DiskJob.objects.create(disk=gone_disk, fstype="ext4", label="X", requested_by=admin)
    formatting.disk_format_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == (DiskJob.Status.FAILED, "RuntimeError: the table vanished")
    assert job.finished_at is not None and "format job" in caplog.text


def test_a_refusal_answers_in_the_callers_language(gone_disk, admin, no_broker_messages):
    user_language_set(user=admin, language="zh-hans")
    answer = _client(admin).post(
        f"/api/storage/disks/{gone_disk.stable_id}/format/",
        {"fstype": "ext4", "label": "X", "confirm": "Test Disk"},
        content_type="application/json",
    )
    assert (answer.status_code, answer.json()["detail"]) == (409, GONE["zh-hans"])
    user_language_set(user=admin, language="de")
    answer = _client(admin).post(
        f"/api/storage/disks/{gone_disk.stable_id}/format/",
        {"fstype": "ext4", "label": "X", "confirm": "Test Disk"},
        content_type="application/json",
    )
    assert answer.json()["detail"] == GONE["de"]


def test_a_mount_whose_disk_is_away_says_so_in_the_readers_language(tmp_path, admin):
    mount = Mount.objects.create(name="Data", target=str(tmp_path / "Data"), fs_uuid="0000-test", fstype="ext4")
    reapply_one(mount)
    mount.refresh_from_db()
    assert mount.state == Mount.State.MISSING
    user_language_set(user=admin, language="de")
    (listed,) = _client(admin).get("/api/storage/mounts/").json()
    assert listed["last_error"] == "die Festplatte ist nicht angeschlossen"
    with translation.override("zh-hans"):
        assert shown(mount.last_error) == "磁盘未连接"
