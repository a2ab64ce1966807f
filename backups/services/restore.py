"""Restore from a snapshot: one app with its data back to its place (or into a copy: copy.py), or a folder / single
files back into the file manager. restic writes into a staging folder of ours first; only a complete restore is moved into place, each tree
swapped whole (staging.replace_tree), so a failure leaves the originals as they were."""

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from apps.models import Installation
from apps.services.common import engine_for
from apps.services.control import AppApply, stop_all
from apps.services.install import app_project
from apps.services.policy import app_data_folder
from files.paths import PathError, resolve

from ..host import restic as R
from ..models import JobRun, Snapshot
from ..staging import remove, replace_tree, restore_area
from ..targets import opened
from .runs import S, run_fail, run_update

log = logging.getLogger(__name__)


class RestoreError(Exception):
    """The restore cannot be done as asked; the message says why in words."""


def restore_queue(
    *,
    user,
    snapshot: Snapshot,
    paths=(),
    target: str = "",
    as_name: str = "",
    consent: bool = False,
    consent_paths=(),
    request=None,
) -> JobRun:
    """Check the request now (a 400 for what cannot work) and queue the restore. `as_name`: an app snapshot goes
    into a new app of that name, the original untouched (backups.services.copy; `consent` and `consent_paths` as for
    an install, when the app has access to this machine)."""
    from ..tasks import restore_run as restore_task

    if as_name:
        from .copy import copy_queue

        return copy_queue(
            user=user, snapshot=snapshot, name=as_name, consent=consent, consent_paths=consent_paths, request=request
        )
    details = {"snapshot": snapshot.pk, "paths": list(paths), "target": target}
    if snapshot.kind == Snapshot.Kind.SYSTEM:
        raise RestoreError("the whole system is restored with `manage.py restore` on a fresh install")
    if snapshot.kind == Snapshot.Kind.FOLDER:
        _file_plan(user, snapshot, list(paths), target)  # refuses paths outside the snapshot or the roots
    elif not Installation.objects.filter(name=snapshot.subject).exists():
        raise RestoreError(f"the app {snapshot.subject} is not installed: restore the system first")
    run = JobRun.objects.create(
        kind=JobRun.Kind.RESTORE, repository=snapshot.repository, requested_by=user, details=details
    )
    audit_record(actor=user, action="backups.restore", request=request, target=snapshot.short_id, details=details)
    transaction.on_commit(lambda: restore_task.delay(run.pk))
    return run


def restore_run(*, run_id: int) -> JobRun:
    """Run a queued restore to its end (a copy's is run by its install: backups.services.copy)."""
    run = JobRun.objects.select_related("repository", "requested_by").get(pk=run_id)
    if run.status != S.QUEUED or run.details.get("as_name"):
        return run
    run_update(run, status=S.RUNNING, started_at=timezone.now())
    try:
        snapshot = Snapshot.objects.get(pk=run.details["snapshot"])
        if snapshot.kind == Snapshot.Kind.APP:
            # After a failed update the rollback starts the previous version itself, once its data is back.
            app_restore(snapshot=snapshot, run=run, start="after_failed_update" not in run.details)
        else:
            details = run.details
            files_restore(user=run.requested_by, snapshot=snapshot, paths=details["paths"], target=details["target"])
    except Exception as exc:
        log.exception("restore %s failed", run.pk)
        return run_fail(run, str(exc) or exc.__class__.__name__)
    run_update(run, status=S.DONE, step="", finished_at=timezone.now())
    return run


@contextlib.contextmanager
def _staged(snapshot: Snapshot, includes=()) -> Iterator[Path]:
    """The snapshot (or the included paths of it) restored into a new staging folder of ours, removed afterwards."""
    staging = restore_area() / R.staging_name()
    with opened(snapshot.repository) as target:
        try:
            R.restore(target, snapshot.restic_id, staging=staging, includes=includes)
        except R.ResticError as exc:
            raise RestoreError(str(exc)) from None
    try:
        yield staging
    finally:
        remove(staging)


def _inside(staging: Path, path: str) -> Path:
    return staging / path.lstrip("/")


# ---------------------------------------------------------------------------- an app with its data
def app_restore(*, snapshot: Snapshot, run: JobRun | None = None, start: bool = True) -> dict:
    """The app's folders and volumes as the snapshot has them, the app stopped meanwhile and (`start`) brought up
    again through the install pipeline's steps."""
    with _staged(snapshot) as staging:
        manifest = _app_manifest(staging, snapshot)
        inst = Installation.objects.get(name=manifest["app"])
        eng = engine_for(inst)
        apply = AppApply(inst, eng, app_project(installation=inst))
        if run:
            run_update(run, step=f"app {inst.name}")
        stop_all(inst, eng, apply.project)
        apply.prepare()  # networks, volumes and folders exist again (a wiped box)
        _data_put_back(staging, manifest, eng, _same(manifest["folders"]), _same(manifest["volumes"]))
        if start:
            apply.bring_up()
    return manifest


def app_data_into(*, snapshot: Snapshot, copy: Installation, eng) -> dict:
    """The snapshot's folders and volumes into a copy's own (they exist; no container of the copy does yet)."""
    with _staged(snapshot) as staging:
        manifest = _app_manifest(staging, snapshot)
        folders, volumes = _copy_map(manifest, copy)
        _data_put_back(staging, manifest, eng, folders, volumes)
    return manifest


def _data_put_back(staging: Path, manifest: dict, eng, folders: dict[str, str], volumes: dict[str, str]) -> None:
    """Each folder and volume of the manifest replaced by the snapshot's, at the place the maps give."""
    for folder in manifest["folders"]:
        _put_back(_inside(staging, folder), Path(folders[folder]))
    mountpoints = {v.name: v.mountpoint for v in eng.list_volumes({})}
    for name, old in manifest["volumes"].items():
        if not mountpoints.get(volumes[name]):
            raise RestoreError(f"the volume {volumes[name]} is not there")
        _put_back(_inside(staging, old), Path(mountpoints[volumes[name]]))


def _same(names) -> dict[str, str]:
    return {name: name for name in names}


def _copy_map(manifest: dict, copy: Installation) -> tuple[dict[str, str], dict[str, str]]:
    """Where the original's folders and volumes go in the copy: paired by service and path in the container, each
    inside the copy's own folder or one of its own volumes. A part with no such place refuses the restore: the
    original must stay untouched."""
    old = _mounts(app_project(installation=Installation.objects.get(name=manifest["app"])))
    project = app_project(installation=copy)
    new = _mounts(project)
    pairs = [(old[key], new[key]) for key in old.keys() & new.keys() if old[key].type == new[key].type]
    folders = {os.path.realpath(a.source): os.path.realpath(b.source) for a, b in pairs if a.type == "bind"}
    volumes = {a.source: b.source for a, b in pairs if a.type == "volume"}
    own_folder = Path(os.path.realpath(app_data_folder(copy.name)))
    own_volumes = {v.name for v in project.volumes if not v.external}
    for name in manifest["folders"]:
        if not Path(folders.get(name, name)).is_relative_to(own_folder):
            raise RestoreError(f"{name} has no place of its own in {copy.name}: it would be the original's")
    for name in manifest["volumes"]:
        if volumes.get(name) not in own_volumes:
            raise RestoreError(f"the volume {name} has no place of its own in {copy.name}: it would be the original's")
    return folders, volumes


def _mounts(project) -> dict:
    return {(spec.service, m.target): m for spec in project.containers for m in spec.mounts}


def _app_manifest(staging: Path, snapshot: Snapshot) -> dict:
    stage_path = next((p for p in snapshot.paths if Path(p).name == f"app-{snapshot.subject}"), None)
    if stage_path is None:
        raise RestoreError("this snapshot has no manifest of the app")
    return json.loads((_inside(staging, stage_path) / "manifest.json").read_text())


def _put_back(source: Path, target: Path) -> None:
    if not source.exists():
        raise RestoreError(f"the snapshot has nothing for {target}")
    replace_tree(source, target)


# ---------------------------------------------------------------------------- a folder or single files
def _file_plan(user, snapshot: Snapshot, paths: list[str], target: str) -> list[tuple[str, Path]]:
    """(path in the snapshot, where it goes) for each path. Back to its place by default; with `target` (a folder
    of the file manager) each goes into that folder under its own name. Destinations are resolved by the file
    manager (a folder the admin may write in) and each path must lie inside the snapshot's folder."""
    top = snapshot.paths[0] if snapshot.paths else ""
    try:
        folder = resolve(user, target or snapshot.subject).require_writable()
    except PathError as exc:
        raise RestoreError(exc.message) from None
    if not folder.is_dir():
        raise RestoreError("the destination is not a folder")
    plan = []
    for path in paths or [top]:
        norm = os.path.normpath("/" + path.lstrip("/"))
        if not (norm == top or Path(norm).is_relative_to(top)):
            raise RestoreError(f"{path} is not in this snapshot")
        rel = Path(norm).relative_to(top)
        dest = folder.real / Path(norm).name if target else folder.real.joinpath(*rel.parts)
        plan.append((norm, _contained(dest, folder.real)))
    return plan


def _contained(dest: Path, folder: Path) -> Path:
    """A destination whose folder (links followed) is still inside the chosen one: no link leads the write out."""
    if dest != folder and not Path(os.path.realpath(dest.parent)).is_relative_to(folder):
        raise RestoreError("This path leads outside your files.")
    return dest


def files_restore(*, user, snapshot: Snapshot, paths: list[str], target: str = "") -> list[Path]:
    """Put the chosen files or folders of a folder snapshot back (to their place, or under another folder)."""
    plan = _file_plan(user, snapshot, paths, target)
    includes = [p for p, _ in plan if p != snapshot.paths[0]]
    with _staged(snapshot, includes) as staging:
        for path, dest in _file_plan(user, snapshot, paths, target):  # checked again: links may have changed
            _put_back(_inside(staging, path), dest)
    return [dest for _, dest in plan]
