"""The whole box back from the setup page of a fresh install ("Restore from backup").

The setup token proves the person owns this machine, as it does for creating the first admin. The request waits for
the worker in a 0600 file of the data directory (the repository password never goes through the broker), and the
progress is a file too, with the `box-restore` group beside it: the database is replaced half-way, so neither may
live in it. The page follows one restore through a random watch key; only its digest is kept. Afterwards each process
starts again on the restored keys: the task ends its worker, the web process notices the new secret key itself
(casaos_site/restart.py).
"""

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.services.audit import audit_record
from accounts.services.setup import setup_token_verify
from casaos_site.events import publish
from casaos_site.secrets import create_once, replace_file

from ..host.restic import ResticError
from ..models import Repository
from ..targets import location_check
from ..wholebox import WholeRestoreError, box_restore

log = logging.getLogger(__name__)
GROUP = "box-restore"
EVENT = "backups.box_restore"
REQUEST_FILE = "box-restore-request.json"
STATUS_FILE = "box-restore.json"
ACTIVE = ("queued", "running")


class BoxRestoreError(Exception):
    """A restore cannot start now; the message says why."""


@dataclass(frozen=True)
class BoxTarget:
    """Where the backup is and how to open it (the fields of `manage.py restore`)."""

    kind: str
    location: str
    password: str
    username: str = ""
    port: int | None = None
    secret: str = ""
    snapshot: str = ""


def box_restore_request(*, request, token: str, target: BoxTarget) -> str:
    """Check the setup token and the target, leave the request for the worker and queue it; returns the watch key
    of its progress. Raises SetupError, ValidationError or BoxRestoreError."""
    from ..tasks import box_restore as task

    setup_token_verify(request=request, token=token)
    if box_restore_status().get("state") in ACTIVE:
        raise BoxRestoreError(_("A restore is already going on."))
    location = location_check(kind=target.kind, location=target.location, username=target.username)
    target = BoxTarget(**{**asdict(target), "location": location})
    if not create_once(_path(REQUEST_FILE), json.dumps(asdict(target))):
        raise BoxRestoreError(_("A restore is already going on."))
    watch = secrets.token_urlsafe(24)
    _status_write({"state": "queued", "lines": [], "error": "", "apps": [], "watch": _digest(watch)})
    transaction.on_commit(task.delay)
    return watch


def box_restore_run() -> bool:
    """The worker's part: restore the box from the waiting request. True when it was restored (the processes must
    then start again: they hold the old secret key)."""
    target = _request_take()
    if target is None:
        return False
    _status_update(state="running", pid=os.getpid())
    try:
        apps = box_restore(repo=_repository(target), snapshot_id=target.snapshot, say=_say)
    except (WholeRestoreError, ResticError) as exc:
        return _failed(target, str(exc))
    except Exception:
        log.exception("the restore from %s failed", target.location)
        return _failed(target, _("The restore failed unexpectedly; the server's log says why."))
    audit_record(action="backups.box_restored", target=target.location, details={"apps": apps})
    _status_update(state="done", apps=apps)
    return True


def _failed(target: BoxTarget, error: str) -> bool:
    audit_record(action="backups.box_restore_failed", target=target.location, details={"error": error})
    _status_update(state="failed", error=error)
    return False


def box_restore_status() -> dict:
    """The last restore's status (empty when there was none); a running one whose worker is gone has failed."""
    try:
        status = json.loads(_path(STATUS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    if status.get("state") == "running" and not _alive(status.get("pid")):
        status.update(state="failed", error=_("its worker stopped before the end."))
    return status


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def box_restore_watched(watch: str) -> dict | None:
    """The status for the holder of this watch key (without the key's digest), else None."""
    status = box_restore_status()
    if not status or not hmac.compare_digest(status.get("watch", ""), _digest(watch)):
        return None
    return _public(status)


def box_restore_context(watch: str, status: dict, *, oob: bool = False) -> dict:
    """What the progress partial draws (the page, its polling and its socket)."""
    return {"status": status, "watch": watch, "oob": oob, "active": status.get("state") in ACTIVE}


def _public(status: dict) -> dict:
    return {key: value for key, value in status.items() if key not in ("watch", "pid")}


def _request_take() -> BoxTarget | None:
    """Read the waiting request and remove it at once: its password must not outlive the restore's start."""
    path = _path(REQUEST_FILE)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    finally:
        path.unlink(missing_ok=True)
    return BoxTarget(**data)


def _repository(target: BoxTarget) -> Repository:
    """An unsaved row (the database it would go in is about to be replaced), as `manage.py restore` makes it."""
    fields = asdict(target)
    fields.pop("snapshot")
    return Repository(**{**fields, "secret": fields["secret"] or None})


def _say(line: str) -> None:
    status = box_restore_status()
    _status_update(lines=[*status.get("lines", []), line])


def _status_update(**fields) -> None:
    status = {**box_restore_status(), **fields}
    _status_write(status)
    publish(GROUP, EVENT, _public(status))


def _status_write(status: dict) -> None:
    replace_file(_path(STATUS_FILE), json.dumps(status))


def _path(name: str) -> Path:
    return Path(settings.DATA_DIR) / name


def _digest(watch: str) -> str:
    return hashlib.sha256(watch.encode()).hexdigest()
