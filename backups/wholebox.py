"""The whole box back onto a fresh install (`manage.py restore`): the system snapshot first (database, keys,
stores), then every app with its data from its latest snapshot, started again.

The database and the keys are put in place whole (a consistent copy, then a rename), so an interrupted restore
leaves either the fresh install's files or the backed-up ones, never a mix. The web and worker processes must be
restarted afterwards: they hold the old secret key and database connections.
"""

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connections

from .host import restic as R
from .models import Repository, Snapshot
from .services.repositories import snapshots_sync
from .staging import remove, replace_tree, restore_area
from .system_dump import KEY_FILES, PG_NAME, SQLITE_NAME, run_pg
from .targets import opened

log = logging.getLogger(__name__)


class WholeRestoreError(Exception):
    """The box cannot be restored from this repository; the message says why."""


def latest_system(repo: Repository, snapshot_id: str = "") -> R.Snapshot:
    """The system snapshot to restore: the one named, else the newest."""
    with opened(repo) as target:
        found = [s for s in R.snapshots(target, tags=["casaos", "kind:system"])]
    if snapshot_id:
        found = [s for s in found if s.id.startswith(snapshot_id)]
    if not found:
        raise WholeRestoreError("this repository holds no backup of the system")
    return found[-1]


def box_restore(*, repo: Repository, snapshot_id: str = "", say: Callable[[str], None] = log.info) -> list[str]:
    """Restore the system, then each app; returns the names of the apps restored."""
    snap = latest_system(repo, snapshot_id)
    say(f"restoring the system from snapshot {snap.short_id} of {snap.time}")
    staging = restore_area() / R.staging_name()
    with opened(repo) as target:
        R.restore(target, snap.id, staging=staging)
    try:
        _system_put_back(staging, snap)
    finally:
        remove(staging)
    connections.close_all()
    _runs_settle()
    return _apps_restore(_repository_row(repo), say)


def _runs_settle() -> None:
    """The system was backed up during a run (its own, at least): that row says "running" for ever otherwise."""
    from django.utils import timezone

    from .models import JobRun

    JobRun.objects.filter(status__in=JobRun.ACTIVE).update(
        status=JobRun.Status.FAILED,
        error="This run was going on when the system was backed up; its snapshots are listed with the others.",
        finished_at=timezone.now(),
    )


def _system_put_back(staging: Path, snap: R.Snapshot) -> None:
    stage = staging / next(p for p in snap.paths if Path(p).name == "system").lstrip("/")
    manifest = json.loads((stage / "manifest.json").read_text())
    connections.close_all()
    _database_put_back(stage, manifest["database"])
    for name in KEY_FILES:
        if (stage / name).exists():
            _file_put_back(stage / name, Path(settings.DATA_DIR) / name)
    stores = next((p for p in snap.paths if Path(p) != stage and Path(p).name != "system"), None)
    if stores and (staging / stores.lstrip("/")).is_dir():
        replace_tree(staging / stores.lstrip("/"), Path(settings.APPSTORE_DIR))


def _database_put_back(stage: Path, kind: str) -> None:
    db = settings.DATABASES["default"]
    if kind == "sqlite" and db["ENGINE"] == "django.db.backends.sqlite3":
        target = Path(db["NAME"])
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        _file_put_back(stage / SQLITE_NAME, target)
    elif kind == "postgresql" and "postgresql" in db["ENGINE"]:
        run_pg(["pg_restore", "--clean", "--if-exists", "--no-owner", str(stage / PG_NAME)])
    else:
        raise WholeRestoreError(f"the backup holds a {kind} database; this install uses {db['ENGINE']}")


def _file_put_back(source: Path, target: Path) -> None:
    """A file replaced at once: copied beside the target, then renamed over it (0600: keys and database)."""
    partial = target.with_name(f".{target.name}.restoring")
    shutil.copy2(source, partial)
    partial.chmod(0o600)
    partial.rename(target)


def _repository_row(repo: Repository) -> Repository:
    """This repository as a row of the restored database (the one with its location, else a new row)."""
    row = _restored_row(repo)
    if row is None:
        row = Repository(
            name=f"restored from {repo.location}"[:100],
            kind=repo.kind,
            location=repo.location,
            username=repo.username,
            port=repo.port,
            secret=repo.secret,
            password_shown=True,
        )
    row.password = repo.password
    row.save()
    return row


def _restored_row(repo: Repository) -> Repository | None:
    """The restored row of this repository: the one at its location, or for rclone (the command line names a remote of
    rclone's own configuration, the row a remote of the Remotes page) the one with its password, 200 random bits."""
    row = Repository.objects.filter(kind=repo.kind, location=repo.location).first()
    if row is None and repo.kind == Repository.Kind.RCLONE:
        row = next((r for r in Repository.objects.filter(kind=repo.kind) if r.password == repo.password), None)
    return row


def _apps_restore(repo: Repository, say: Callable[[str], None]) -> list[str]:
    from apps.models import Installation

    snapshots_sync(repository=repo)
    done = []
    for inst in Installation.objects.exclude(status__in=Installation.ENDED):
        snap = repo.snapshots.filter(kind=Snapshot.Kind.APP, subject=inst.name).first()  # newest first
        try:
            _app_back(inst, snap, say)
        except Exception as exc:  # one app that cannot start must not keep the others down
            log.exception("restoring %s failed", inst.name)
            say(f"{inst.name}: {exc}")
            continue
        done.append(inst.name)
    return done


def _app_back(inst, snap: Snapshot | None, say: Callable[[str], None]) -> None:
    """The app's data from its newest snapshot and the app started; without one, the app started as it is."""
    from apps.services.common import engine_for
    from apps.services.control import AppApply
    from apps.services.install import app_project

    from .services.restore import app_restore

    if snap is None:
        say(f"{inst.name}: no backup of its data; started with what its folders hold")
        AppApply(inst, engine_for(inst), app_project(installation=inst)).bring_up()
        return
    say(f"{inst.name}: restoring its data from snapshot {snap.short_id}")
    app_restore(snapshot=snap)
