"""Backups: the first and an incremental backup of an app data folder through our whole run (job → run_backup:
restic with streaming progress, the run row, the snapshot list) against `restic backup` run by hand on the same
folder, into a repository of its own, in the same run. Goal: at most 1.1x for both.

CASAOS_BENCH_FILE_MIB sets the folder's size (default 2048: 2 GiB of random data in 64 files); the incremental
backup follows a change of one file. The folder is read once before the first backups so both find it cached.
Run alone with `python -m bench.backups`.

Each timed backup starts after `sync`, and the two take turns going first (CASAOS_BENCH_ROUNDS rounds, fresh
repositories each, medians compared): otherwise the second one to run paid for writing back the first one's 2 GiB of
repository, and ours, always second, measured 1.2-1.3x where the same run alone was at par.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from unittest import mock

from bench._report import row

SIZE = int(os.environ.get("CASAOS_BENCH_FILE_MIB", "2048")) * 1024 * 1024
FILES = 64
GOAL = 1.1
ROUNDS = int(os.environ.get("CASAOS_BENCH_ROUNDS", "3"))


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
    os.sync()
    started = time.perf_counter()
    subprocess.run(["restic", "backup", "--host", "casaos", str(folder)], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def _ours(job, user) -> float:
    from backups.services import job_run_queue, run_backup

    with mock.patch("backups.tasks.backup_run.delay"):  # no worker here: the run is called in this process
        run = job_run_queue(user=user, job=job)
    os.sync()
    started = time.perf_counter()
    run = run_backup(run_id=run.pk)
    elapsed = time.perf_counter() - started
    assert run.status == "done", run.error
    return elapsed


def _round(n: int, base: Path, folder: Path, admin, password: Path) -> dict[str, tuple[float, float]]:
    """One round in fresh repositories: {"first"|"incremental": (ours, by hand)}; odd rounds run ours first."""
    from backups.models import BackupJob
    from backups.services import repository_create

    repo = repository_create(user=admin, name=f"bench-{n}", kind="local", location=str(base / f"ours-{n}"))
    job = BackupJob.objects.create(
        name=f"bench-{n}",
        repository=repo,
        created_by=admin,
        include_system=False,
        folders=["AppData"],
        keep_last=0,
        keep_daily=0,
        keep_weekly=0,
        keep_monthly=0,
    )

    def pair() -> tuple[float, float]:
        if n % 2:
            ours = _ours(job, admin)
            return ours, _by_hand(base / f"hand-{n}", password, folder)
        hand = _by_hand(base / f"hand-{n}", password, folder)
        return _ours(job, admin), hand

    first = pair()
    (folder / "part-00.bin").write_bytes(os.urandom(SIZE // FILES))
    figures = {"first": first, "incremental": pair()}
    for path in (base / f"ours-{n}", base / f"hand-{n}"):
        shutil.rmtree(path, ignore_errors=True)
    return figures


def main() -> None:
    base = _setup()
    from tests.factories import UserFactory

    admin = UserFactory(admin=True, username="bench-admin")
    folder = _folder(base / "data" / "files")
    password = base / "password"
    password.write_text("bench password")
    password.chmod(0o600)
    try:
        rounds = [_round(n, base, folder, admin, password) for n in range(ROUNDS)]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    gib = SIZE / 2**30
    for label in ("first", "incremental"):
        ours = statistics.median(r[label][0] for r in rounds)
        hand = statistics.median(r[label][1] for r in rounds)
        ratio = ours / hand
        print(f"{label} backup of {gib:.1f} GiB: ours {ours:.1f} s, restic by hand {hand:.1f} s ({ratio:.2f}x)")
        row(
            f"{label} backup of a {gib:.1f} GiB app data folder (a job's run, median of {ROUNDS})",
            f"{ours:.1f} s",
            f"{hand:.1f} s (restic backup by hand)",
            ratio,
            f"<= {GOAL}x",
            ratio <= GOAL,
        )


if __name__ == "__main__":
    main()
