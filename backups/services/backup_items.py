"""What one job backs up, as items: the system, each app with its data, each folder. Each item becomes a snapshot
of its own (tagged with its kind and subject), so one app or one folder can be restored and kept on its own."""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from apps.models import Installation
from apps.services.common import engine_for
from files.paths import PathError, resolve

from ..appdata import app_data, app_held, app_stage
from ..models import BackupJob, Snapshot
from ..system_dump import system_stage


@dataclass
class Item:
    kind: str
    subject: str
    job: BackupJob

    @property
    def label(self) -> str:
        return {"system": "system", "app": f"app {self.subject}", "folder": f"folder {self.subject}"}[self.kind]

    @contextlib.contextmanager
    def held(self, downtime: dict) -> Iterator[list[str]]:
        """The paths to back up, held consistent for the block."""
        if self.kind == Snapshot.Kind.SYSTEM:
            yield system_stage()
        elif self.kind == Snapshot.Kind.APP:
            with _app_paths(self.subject, downtime) as paths:
                yield paths
        else:
            yield [str(folder_real(self.job, self.subject))]


def job_items(job: BackupJob) -> list[Item]:
    items = [Item(Snapshot.Kind.SYSTEM, "", job)] if job.include_system else []
    items += [Item(Snapshot.Kind.APP, name, job) for name in job.apps]
    return items + [Item(Snapshot.Kind.FOLDER, path, job) for path in job.folders]


@contextlib.contextmanager
def _app_paths(name: str, downtime: dict) -> Iterator[list[str]]:
    inst = Installation.objects.filter(name=name).first()
    if inst is None:
        raise LookupError(f"the app {name} is not installed")
    eng = engine_for(inst)
    data = app_data(inst=inst, eng=eng)
    with app_held(inst=inst, eng=eng, downtime=downtime):
        yield app_stage(data)


def folder_real(job: BackupJob, view_path: str):
    """The folder's real path through the file manager's own resolution (contained in a root, no way out)."""
    if job.created_by is None:
        raise PermissionError("the job has no owner whose files it could read")
    try:
        target = resolve(job.created_by, view_path)
    except PathError as exc:
        raise PermissionError(f"{view_path}: {exc.message}") from None
    if not target.is_dir():
        raise FileNotFoundError(f"{view_path} is not a folder")
    return target.real
