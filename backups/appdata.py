"""An app's data as restic sees it: its bind folders and named volumes, held still while they are read.

Consistency: by default the app is stopped for the backup and started again; an app whose compose labels name a
pre-backup hook (`casaos.backup.hook`, e.g. a database dump command) stays running and the hook runs first, inside
its container through the engine's exec. The seconds the app was down are returned for the run's result.
"""

import contextlib
import os
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from apps.models import Installation
from apps.services.control import AppApply, stop_all
from apps.services.install import app_project
from appstore.install import data_root
from runtime import Engine
from runtime.compose import ComposeError

from .staging import manifest_write, stage

HOOK_LABEL = "casaos.backup.hook"
HOOK_TIMEOUT = 600  # seconds a pre-backup hook may take


class AppDataError(Exception):
    """The app's data cannot be backed up or restored as asked; the message says why, in words."""


@dataclass
class AppData:
    """What of an app is backed up: folders (host paths) and named volumes (name → the engine's folder)."""

    name: str
    folders: list[str] = field(default_factory=list)
    volumes: dict[str, str] = field(default_factory=dict)

    @property
    def paths(self) -> list[str]:
        return [*self.folders, *self.volumes.values()]

    def manifest(self) -> dict:
        return {"kind": "app", "app": self.name, "folders": self.folders, "volumes": self.volumes}


def _allowed_roots() -> list[Path]:
    """Where an app's bind folders may be backed up from: the apps' data root, the files root, the media root.
    A bind of /etc or of the engine's socket is host access, never data of the app."""
    roots = [data_root(), settings.FILES_ROOT, settings.MEDIA_ROOT_DISKS]
    return [Path(os.path.realpath(root)) for root in roots]


def _data_folder(source: str) -> bool:
    real = Path(os.path.realpath(source))
    return real.is_dir() and any(real.is_relative_to(root) and real != root for root in _allowed_roots())


def app_data(*, inst: Installation, eng: Engine) -> AppData:
    """The app's bind folders (inside the allowed roots) and named volumes, with where the engine keeps them."""
    try:
        mounts = [m for spec in app_project(installation=inst).containers for m in spec.mounts]
    except ComposeError as exc:
        raise AppDataError(f"the compose file of {inst.name} cannot be read: {exc}") from None
    folders = sorted({os.path.realpath(m.source) for m in mounts if m.type == "bind" and _data_folder(m.source)})
    names = {m.source for m in mounts if m.type == "volume" and m.source}
    found = {v.name: v.mountpoint for v in eng.list_volumes({}) if v.name in names}
    data = AppData(inst.name, folders, {n: p for n, p in sorted(found.items()) if p and Path(p).is_dir()})
    if not data.paths:
        raise AppDataError(f"{inst.name} keeps no data in folders or named volumes")
    return data


def app_stage(data: AppData) -> list[str]:
    """The paths of the app's snapshot: its data, and a manifest that says where each part goes back."""
    folder = stage(f"app-{data.name}")
    manifest_write(folder, data.manifest())
    return [str(folder), *data.paths]


def hook_of(*, inst: Installation, eng: Engine) -> tuple[str, list[str]] | None:
    """(container, argv) of the app's pre-backup hook, when a running container's labels name one."""
    for info in eng.list({"io.casaos.app": inst.name}):
        command = (info.labels or {}).get(HOOK_LABEL, "").strip()
        if command and info.running:
            return info.id, shlex.split(command)
    return None


def hook_run(*, eng: Engine, container: str, argv: list[str]) -> None:
    """Run the hook in its container (no shell of ours: the label's words are its argv) and wait for its end."""
    session = eng.exec(container, argv, tty=False)
    try:
        output = session.read_all()
        code = _exit_code(session)
    finally:
        session.close()
    if code != 0:
        tail = output.decode(errors="replace").strip()[-300:]
        raise AppDataError(f"the pre-backup hook ended with status {code}: {tail}")


def _exit_code(session) -> int | None:
    deadline = time.monotonic() + HOOK_TIMEOUT
    while (code := session.exit_code()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    return code


@contextlib.contextmanager
def app_held(*, inst: Installation, eng: Engine, downtime: dict) -> Iterator[None]:
    """Hold the app still for the block: its hook runs first (it stays up), or it is stopped and started again
    afterwards (when it was running). `downtime[app]` gets the seconds it was down."""
    hook = hook_of(inst=inst, eng=eng)
    if hook is not None:
        hook_run(eng=eng, container=hook[0], argv=hook[1])
        downtime[inst.name] = 0.0
        yield
        return
    was_running = any(c.running for c in eng.list({"io.casaos.app": inst.name}))
    stopped_at = time.monotonic()
    if was_running:
        stop_all(inst, eng, app_project(installation=inst))
    try:
        yield
    finally:
        if was_running:
            AppApply(inst, eng, app_project(installation=inst)).bring_up()
        downtime[inst.name] = round(time.monotonic() - stopped_at, 1) if was_running else 0.0
