"""Uninstall: data is kept unless the admin ticks "also delete this app's data" (with a fresh step-up: the page's
confirmation asks for the password every time, an API client needs a fresh step-up or a full-scope token).

Then only what belongs to the app goes: its named volumes (by label) and its own folder under the apps data
root (<root>/<app name>), and only when no other app mounts anything inside it. A shared folder such as a
media library is outside that folder and is never deleted.
"""

import logging
import shutil
from pathlib import Path

from accounts.permissions import request_stepped_up
from casaos_site.i18n import deferred
from runtime import Engine
from runtime import labels as L
from runtime.compose import ComposeError
from runtime.errors import EngineError

from ..models import AppEvent, Installation
from .common import InstallError, app_update
from .control import operation_queue
from .install import app_project
from .lifecycle import app_uninstall_run

log = logging.getLogger(__name__)
Outcome = AppEvent.Outcome
S = Installation.Status


def app_remove(*, user, installation: Installation, delete_data: bool = False, request=None) -> AppEvent:
    """Queue the uninstall; deleting data needs a step-up within the last minutes (or a full-scope API token)."""
    if delete_data and (request is None or not request_stepped_up(request)):
        raise InstallError(
            deferred("Confirm your password again (step-up) before deleting an app's data."), code="stepup"
        )
    folders = [str(p) for p in app_data_folders(installation)] if delete_data else []
    return operation_queue(
        user=user,
        installation=installation,
        operation="uninstall",
        request=request,
        allowed=(*Installation.SETTLED, *Installation.ENDED),
        details={"delete_data": delete_data, "folders": folders},
    )


def run_uninstall(*, event: AppEvent, inst: Installation, eng: Engine) -> tuple[str, str, dict]:
    """Remove containers and networks (and, when asked, volumes and the app's folder) through the pipeline's
    own removal, then the row."""
    delete_data = bool(event.details.get("delete_data"))
    app_update(inst, status=S.REMOVING, delete_data=delete_data, detail=deferred("Removing…"), error="")
    if not app_uninstall_run(installation_id=inst.pk):
        inst.refresh_from_db()
        return Outcome.FAILED, inst.error or deferred("The app could not be removed."), {}
    for folder in event.details.get("folders") or []:
        _delete_folder(Path(folder), app_name=inst.name)
    return Outcome.DONE, deferred("Removed."), {}


def app_deletable_data(*, inst: Installation, eng: Engine) -> dict:
    """What "also delete this app's data" would remove, for the confirmation to name: the named volumes, the app's
    own folder, how many unnamed volumes its containers have; and the folders it uses that are kept."""
    try:
        volumes = sorted(v.name for v in eng.list_volumes({L.APP: inst.name}))
    except EngineError:
        volumes = []
    folders = app_data_folders(inst)
    mounts = _mounts(inst)
    return {
        "volumes": volumes,
        "folders": [str(f) for f in folders],
        "unnamed": sum(1 for m in mounts if m.type == "volume" and not m.source),
        "kept": sorted(
            {m.source for m in mounts if m.type == "bind" and not any(_inside(m.source, f) for f in folders)}
        ),
    }


def app_data_folders(inst: Installation) -> list[Path]:
    """The app's own data folder (<data root>/<name>), when the app mounts something in it and no other app does."""
    root = _data_root()
    own = root / inst.name
    if not own.is_dir() or own.is_symlink() or not inst.name:
        return []
    if not any(_inside(src, own) for src in _bind_sources(inst)):
        return []
    others = Installation.objects.exclude(pk=inst.pk).exclude(status__in=Installation.ENDED)
    if any(_inside(src, own) for other in others for src in _bind_sources(other)):
        return []
    return [own]


def _delete_folder(folder: Path, *, app_name: str) -> None:
    """Re-check containment right before deleting (the folder may have become a symlink since)."""
    root = _data_root()
    if folder.is_symlink() or folder.resolve() != root / app_name or folder.resolve() == root:
        log.warning("not deleting %s: it is not %s's own data folder", folder, app_name)
        return
    shutil.rmtree(folder, ignore_errors=True)


def _bind_sources(inst: Installation) -> list[str]:
    try:
        return [src for spec in app_project(installation=inst).containers for src in spec.bind_sources]
    except ComposeError:
        return []


def _mounts(inst: Installation) -> list:
    try:
        return [m for spec in app_project(installation=inst).containers for m in spec.mounts]
    except ComposeError:
        return []


def _inside(path: str, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


def _data_root() -> Path:
    from appstore.install import data_root

    return Path(data_root()).resolve()
