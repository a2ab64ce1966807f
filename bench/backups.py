"""Backups: the first and an incremental backup of an app data folder through our whole run (job → run_backup:
restic with streaming progress, the run row, the snapshot list) against `restic backup` run by hand on the same
folder, into a repository of its own, in the same run. Goal: at most 1.1x for both.

CASAOS_BENCH_FILE_MIB sets the folder's size (default 2048: 2 GiB of random data in 64 files); the incremental
backup follows a change of one file. The folder is read once before the first backups so both find it cached.
Run alone with `python -m bench.backups`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from unittest import mock

from bench._report import row

SIZE = int(os.environ.get("CASAOS_BENCH_FILE_MIB", "2048")) * 1024 * 1024
FILES = 64
GOAL = 1.1


def _setup() -> Path:
    data = Path(tempfile.mkdtemp(prefix="casaos-bench-backups-", dir=os.environ.get("CASAOS_BENCH_DIR")))
    os.environ["CASAOS_DATA_DIR"] = str(data / "data")
    os.environ["CASAOS_FILES_ROOT"] = str(data / "data" / "files")
    os.environ["DJANGO_SETTINGS_MODULE"] = "casaos_site.settings_test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data


def _folder(root: Path) -> Path:
    folder = root / "AppData"
    folder.mkdir(parents=True)
    for n in range(FILES):
        with (folder / f"part-{n:02d}.bin").open("wb") as out:
            for _ in range(SIZE // FILES // 2**20):
                out.write(os.urandom(2**20))
    for path in folder.iterdir():  # both backups find it in the page cache
        path.read_bytes()
    return folder


def _by_hand(repo: Path, password: Path, folder: Path) -> float:
    env = {**os.environ, "RESTIC_REPOSITORY": str(repo), "RESTIC_PASSWORD_FILE": str(password)}
    env["RESTIC_CACHE_DIR"] = str(repo.parent / "cache-hand")
    if not repo.exists():
        subprocess.run(["restic", "init"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(["restic", "backup", "--host", "casaos", str(folder)], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def _ours(job, user) -> float:
    from backups.services import job_run_queue, run_backup

    with mock.patch("backups.tasks.backup_run.delay"):  # no worker here: the run is called in this process
        run = job_run_queue(user=user, job=job)
    started = time.perf_counter()
    run = run_backup(run_id=run.pk)
    elapsed = time.perf_counter() - started
    assert run.status == "done", run.error
    return elapsed


def main() -> None:
    base = _setup()
    from backups.models import BackupJob
    from backups.services import repository_create
    from tests.factories import UserFactory

    admin = UserFactory(admin=True, username="bench-admin")
    folder = _folder(base / "data" / "files")
    repo = repository_create(user=admin, name="bench", kind="local", location=str(base / "ours"))
    password = base / "password"
    password.write_text("bench password")
    password.chmod(0o600)
    job = BackupJob.objects.create(
        name="bench",
        repository=repo,
        created_by=admin,
        include_system=False,
        folders=["AppData"],
        keep_last=0,
        keep_daily=0,
        keep_weekly=0,
        keep_monthly=0,
    )
    try:
        hand_first, ours_first = _by_hand(base / "hand", password, folder), _ours(job, admin)
        (folder / "part-00.bin").write_bytes(os.urandom(SIZE // FILES))
        hand_next, ours_next = _by_hand(base / "hand", password, folder), _ours(job, admin)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    gib = SIZE / 2**30
    for label, ours, hand in (("first", ours_first, hand_first), ("incremental", ours_next, hand_next)):
        ratio = ours / hand
        print(f"{label} backup of {gib:.1f} GiB: ours {ours:.1f} s, restic by hand {hand:.1f} s ({ratio:.2f}x)")
        row(
            f"{label} backup of a {gib:.1f} GiB app data folder (a job's run)",
            f"{ours:.1f} s",
            f"{hand:.1f} s (restic backup by hand)",
            ratio,
            f"<= {GOAL}x",
            ratio <= GOAL,
        )


if __name__ == "__main__":
    main()
