"""Restore an app as a copy under a new name: a new app installed through the apps' own pipeline (app_install, so
validated, audited, claimed and cleaned up like any install), seeded (apps.services.seed): once its volumes and
folders exist and before any of its containers does, they are filled from the snapshot; then it starts.

The restore run on the Backups page follows it: queued while the copy's images download, running while its data goes
in and it starts, done once it runs. A copy that fails or is cancelled leaves nothing: the pipeline removes its
containers, networks and volumes, this removes its folder, and its row goes (the run says why)."""

import logging
import shutil
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from apps.models import Installation
from apps.services import InstallError, app_install
from apps.services.common import InstallFailed, app_update
from apps.services.install import app_name_check
from apps.services.policy import app_data_folder
from casaos_site.i18n import deferred, shown
from runtime import Engine
from runtime.compose import Project

from ..appcopy import CopyRefused, copy_plan
from ..models import JobRun, Snapshot
from .restore import RestoreError, app_data_into
from .runs import S, run_fail, run_update

log = logging.getLogger(__name__)
SEED = "backup"  # Installation.seed["kind"] of a copy restored from a snapshot


def copy_queue(*, user, snapshot: Snapshot, name: str, consent=False, consent_paths=(), request=None) -> JobRun:
    """Check everything now (a taken or invalid name, what a copy cannot have: a 400 with nothing made), then
    record the copy's install, seeded from the snapshot, and its restore run; the install's task does the rest."""
    original = _original(snapshot)
    try:
        app_name_check(name=name)
        plan = copy_plan(original=original, name=name)
    except InstallError as exc:
        raise RestoreError(_words(exc)) from None
    except CopyRefused as exc:
        raise RestoreError(str(exc)) from None
    details = {"snapshot": snapshot.pk, "paths": [], "target": "", "as_name": name, "ports": plan.ports}
    with transaction.atomic():  # a refused install leaves no run either
        run = JobRun.objects.create(
            kind=JobRun.Kind.RESTORE, repository=snapshot.repository, requested_by=user, details=details
        )
        seed = {"kind": SEED, "run": run.pk}
        copy = _install(
            user=user,
            original=original,
            name=name,
            plan=plan,
            seed=seed,
            request=request,
            consent=consent,
            consent_paths=consent_paths,
        )
        run.details = {**details, "installation": copy.pk}
        run.save(update_fields=["details"])
        audit_record(actor=user, action="backups.restore", request=request, target=snapshot.short_id, details=details)
    return run


def _original(snapshot: Snapshot) -> Installation:
    if snapshot.kind != Snapshot.Kind.APP:
        raise RestoreError("only the snapshot of an app can be restored as a copy")
    original = Installation.objects.exclude(status__in=Installation.ENDED).filter(name=snapshot.subject).first()
    if original is None:
        raise RestoreError(f"a copy is made from an installed app: {snapshot.subject} is not installed")
    return original


def _install(*, user, original: Installation, name: str, plan, seed: dict, request, **consents) -> Installation:
    """The copy's install, as a second install of the original (a store app's remembers the same template)."""
    from apps.services.update import store_template
    from appstore.updates import installed_template_copy

    store = original.source == Installation.Source.STORE
    try:
        copy = app_install(
            user=user,
            compose=plan.compose,
            name=name,
            inputs=plan.inputs,
            source=original.source,
            store_app=store_template(original) if store else None,
            seed=seed,
            request=request,
            **consents,
        )
    except InstallError as exc:
        raise RestoreError(_words(exc)) from None
    installed_template_copy(source=original, installation=copy)
    return copy


def _words(exc: InstallError) -> str:
    return " ".join(shown(m) for m in exc.messages)


class CopySeeder:
    """Fills a copy from its snapshot, and ends its restore run with its install."""

    def fill(self, *, inst: Installation, eng: Engine, project: Project) -> None:
        run = JobRun.objects.select_related("repository").get(pk=inst.seed["run"])
        snapshot = Snapshot.objects.get(pk=run.details["snapshot"])
        run_update(run, status=S.RUNNING, started_at=timezone.now(), step=f"data into the copy {inst.name}")
        app_update(inst, detail=deferred("Restoring its data from the backup %(id)s…", id=snapshot.short_id))
        own = app_data_folder(inst.name)
        if {"kind": "dir", "name": own} in inst.created_objects:  # ours to remove should the copy fail
            app_update(inst, seed={**inst.seed, "folder": own}, publish_state=False)
        try:
            app_data_into(snapshot=snapshot, copy=inst, eng=eng)
        except Exception as exc:
            log.exception("the data of the copy %s could not be restored", inst.name)
            raise InstallFailed(
                deferred("Its data could not be restored from the backup: %(error)s", error=str(exc))
            ) from exc
        run_update(run, step=f"starting the copy {inst.name}")

    def ended(self, *, inst: Installation, ok: bool, message: str) -> None:
        if not ok and inst.seed.get("folder") == app_data_folder(inst.name):
            _folder_remove(Path(inst.seed["folder"]))
        run = JobRun.objects.select_related("job", "repository").filter(pk=inst.seed.get("run")).first()
        if run is None or run.status not in JobRun.ACTIVE:
            return
        if ok:
            run_update(run, status=S.DONE, step="", finished_at=timezone.now())
        else:
            run_fail(run, f"the copy {inst.name} was not installed: {shown(message)}")


def _folder_remove(folder: Path) -> None:
    """The copy's own folder, which its install made: what the snapshot put there goes with it."""
    if folder.is_symlink() or not folder.is_dir():
        return
    shutil.rmtree(folder, ignore_errors=True)
