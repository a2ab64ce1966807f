"""Backup runs and restores with real restic: folders, retention, broken targets, restore containment."""

import os
import shutil
import subprocess
import time

import pytest

from backups.models import BackupJob, JobRun, Repository, Snapshot
from backups.services import job_run_queue, restore_queue, restore_run, run_backup
from backups.services.restore import RestoreError
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def _job(repository, admin_user, **fields) -> BackupJob:
    values = {"name": "photos", "include_system": False, "folders": ["Photos"], "keep_daily": 0, "keep_weekly": 0}
    values.update(keep_monthly=0, keep_last=10)
    values.update(fields)
    return BackupJob.objects.create(repository=repository, created_by=admin_user, **values)


def _run(job, user) -> JobRun:
    run = job_run_queue(user=user, job=job)
    return run_backup(run_id=run.pk)


def test_it_backs_up_a_folder_and_records_the_result(repository, admin_user, photos):
    run = _run(_job(repository, admin_user), admin_user)
    assert run.status == "done", run.error
    assert run.size > 0 and run.files == 1 and run.duration is not None
    (snap,) = Snapshot.objects.all()
    assert snap.kind == "folder" and snap.subject == "Photos" and snap.paths == [str(photos)]


def test_it_restores_a_file_from_three_snapshots_back(repository, admin_user, photos):
    job = _job(repository, admin_user)
    for n in range(1, 5):
        (photos / "a.txt").write_text(f"v{n}")
        assert _run(job, admin_user).status == "done"
        time.sleep(0.01)
    snaps = list(Snapshot.objects.order_by("time"))
    three_back = snaps[-4]
    run = restore_queue(user=admin_user, snapshot=three_back, paths=[str(photos / "a.txt")])
    assert restore_run(run_id=run.pk).status == "done"
    assert (photos / "a.txt").read_text() == "v1"
    assert sorted(p.name for p in photos.iterdir()) == ["a.txt"]  # no staging or aside left in the folder


def test_retention_keeps_exactly_the_last_n(repository, admin_user, photos):
    job = _job(repository, admin_user, keep_last=2)
    ids = []
    for n in range(4):
        (photos / "a.txt").write_text(str(n))
        ids += _run(job, admin_user).snapshots
        time.sleep(0.01)
    assert [s.short_id for s in Snapshot.objects.order_by("time")] == ids[2:]


def test_it_refuses_a_restore_target_outside_the_roots(repository, admin_user, photos):
    run = _run(_job(repository, admin_user), admin_user)
    snap = Snapshot.objects.get(short_id=run.snapshots[0])
    for target in ("../../etc", "/etc", "Photos/../../../"):
        with pytest.raises(RestoreError):
            restore_queue(user=admin_user, snapshot=snap, target=target)
    with pytest.raises(RestoreError):
        restore_queue(user=admin_user, snapshot=snap, paths=["/etc/passwd"])
    assert not JobRun.objects.filter(kind="restore").exists()


def test_it_refuses_a_member_as_restore_target_owner(repository, admin_user, member_user, photos):
    run = _run(_job(repository, admin_user), admin_user)
    snap = Snapshot.objects.get(short_id=run.snapshots[0])
    with pytest.raises(RestoreError):  # a member's view has no "Photos" at the root
        restore_queue(user=member_user, snapshot=snap)


def _failed_with(run: JobRun, words: str) -> None:
    assert run.status == "failed" and words in run.error, run.error
    assert Notification.objects.filter(kind="backups.failed").exists()


def test_a_wrong_password_fails_clearly_and_notifies(repository, admin_user, photos):
    Repository.objects.filter(pk=repository.pk).update(password="not it")  # what a restored key file mix-up does
    repository.refresh_from_db()
    run = _run(_job(repository, admin_user), admin_user)
    _failed_with(run, "wrong repository password")


def test_an_unreachable_sftp_target_fails_clearly_and_notifies(db, admin_user, photos, restic_present):
    import socket

    # A port held bound and never listening: connecting is refused, and no server another test starts can take it
    # (a free port let go of was once taken by one, and ssh met a server that was not SSH).
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        repo = Repository.objects.create(
            name="nas", kind="sftp", location="127.0.0.1:/backups", username="casaos", port=port, password="x"
        )
        run = _run(_job(repo, admin_user), admin_user)
    # ssh's own "Connection refused" line does not always reach restic's stderr before restic gives up (twice in a
    # loaded full run, never alone): then restic's "unable to start the sftp session" names the same cause.
    assert run.error in ("the backup target does not answer", "the SFTP server cannot be reached"), run.error
    _failed_with(run, run.error)


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MiB ext4 filesystem on a loop device, mounted on a folder of the test's own."""
    if os.geteuid() != 0 or shutil.which("mkfs.ext4") is None:
        pytest.skip("a loop-device filesystem needs root and mkfs.ext4")
    image, mnt = tmp_path / "disk.img", tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["truncate", "-s", "24M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


def test_a_full_target_fails_clearly_notifies_and_leaves_the_folder_alone(small_disk, admin_user, photos):
    from backups.services import repository_create

    repo = repository_create(user=admin_user, name="small", kind="local", location=str(small_disk / "repo"))
    (photos / "big.bin").write_bytes(os.urandom(48 * 1024**2))  # random: nothing to deduplicate or compress
    run = _run(_job(repo, admin_user), admin_user)
    _failed_with(run, "the backup target is full")
    assert (photos / "a.txt").read_text() == "v0"


def test_a_run_whose_worker_went_away_ends_failed(repository, admin_user, photos):
    from datetime import timedelta

    from django.utils import timezone

    from backups.services.runs import runs_lost

    run = job_run_queue(user=admin_user, job=_job(repository, admin_user))
    JobRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=timezone.now() - timedelta(hours=1))
    assert runs_lost() == 1
    run.refresh_from_db()
    _failed_with(run, "worker stopped")


def test_the_tick_queues_what_is_due_once(repository, admin_user, photos):
    from datetime import timedelta

    from django.utils import timezone

    from backups.services import jobs_due

    job = _job(repository, admin_user, schedule="*/5 * * * *")
    BackupJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    assert len(jobs_due()) == 1
    assert jobs_due() == []  # due again only at the next moment of the schedule


def test_a_failed_restore_leaves_the_files_and_no_staging(repository, admin_user, photos, settings):
    from backups.staging import restore_area

    run = _run(_job(repository, admin_user), admin_user)
    snap = Snapshot.objects.get(short_id=run.snapshots[0])
    (photos / "a.txt").write_text("now")
    Repository.objects.filter(pk=repository.pk).update(password="not it")
    restore = restore_run(run_id=restore_queue(user=admin_user, snapshot=snap).pk)
    _failed_with(restore, "wrong repository password")
    assert (photos / "a.txt").read_text() == "now"
    assert list(restore_area().iterdir()) == []


def test_the_restore_command_says_what_is_wrong(tmp_path, restic_present):
    from django.core.management import CommandError, call_command

    password = tmp_path / "pw"
    password.write_text("x")
    with pytest.raises(CommandError, match="there is no repository at this location"):
        call_command("restore", "--location", str(tmp_path / "none"), "--password-file", str(password))
