"""Copy and move of files and trees as worker tasks: progress in bytes and files, cancel, conflict policy."""

# fd-level work (os.open flags O_EXCL/O_NOFOLLOW, renameat2, copy_file_range) reads clearer with os.*:
# ruff: noqa: PTH115, PTH123, PTH208, PTH211

import errno
import os
import secrets
import shutil
import time
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casaos_site.events import publish

from ..models import FileTask
from ..paths import RESERVED_PREFIX, PathError, Target, contained, resolve
from .common import check_free_space, free_name, remove_entry, rename_noreplace, same_device, tree_size, user_group

STEP = 8 * 1024 * 1024
PUBLISH_EVERY = 0.4  # seconds between progress events
Conflict = FileTask.Conflict


class Cancelled(Exception):
    """The user pressed cancel: the running task stops at the next step and cleans up its partial file."""


def task_payload(task: FileTask) -> dict:
    """What progress events carry (the API serializer shows the same fields)."""
    return {
        "id": task.pk,
        "kind": task.kind,
        "status": task.status,
        "bytes_done": task.bytes_done,
        "bytes_total": task.bytes_total,
        "files_done": task.files_done,
        "files_total": task.files_total,
        "percent": task.percent,
        "error": task.error,
        "destination": task.destination,
    }


def task_publish(task: FileTask) -> None:
    publish(user_group(task.user_id), "files.task", task_payload(task))


class Progress:
    """Counts bytes and files of a running task, saves and publishes them now and then, and notices cancel."""

    def __init__(self, task: FileTask):
        self.task = task
        self.last = 0.0

    def add(self, *, nbytes: int = 0, files: int = 0) -> None:
        self.task.bytes_done += nbytes
        self.task.files_done += files
        if time.monotonic() - self.last >= PUBLISH_EVERY:
            self.flush()

    def flush(self) -> None:
        self.last = time.monotonic()
        FileTask.objects.filter(pk=self.task.pk).update(
            bytes_done=self.task.bytes_done, files_done=self.task.files_done
        )
        if FileTask.objects.filter(pk=self.task.pk, cancel_requested=True).exists():
            raise Cancelled
        task_publish(self.task)


# ---------------------------------------------------------------------------- create / cancel
def _check_sources(user, sources: list[str], folder: Target, *, kind: str) -> list[Target]:
    if not sources:
        raise PathError(_("Choose at least one file or folder."), 400)
    targets = [resolve(user, s, follow=False) for s in sources]
    for target in targets:
        if target.is_base:
            raise PathError(_("This folder cannot be moved or copied."), 400)
        if not (target.real.exists() or target.real.is_symlink()):
            raise PathError(_("“%(name)s” no longer exists.") % {"name": target.name}, 404)
        if kind == FileTask.Kind.MOVE:
            target.require_writable()
        if folder.real.is_relative_to(target.real):
            raise PathError(_("A folder cannot be put inside itself."), 400)
    return targets


def filetask_create(
    *, user, kind: str, sources: list[str], destination: str, conflict: str = Conflict.KEEP_BOTH
) -> FileTask:
    """Check every path now (a bad one queues nothing), record the task and queue it after commit."""
    if kind not in (FileTask.Kind.COPY, FileTask.Kind.MOVE):
        raise PathError(_("Unknown operation."), 400)
    if conflict not in Conflict.values:
        raise PathError(_("Unknown conflict policy."), 400)
    folder = resolve(user, destination).require_writable()
    if not folder.real.is_dir():
        raise PathError(_("The destination is not a folder."), 400)
    targets = _check_sources(user, sources, folder, kind=kind)
    task = FileTask.objects.create(
        user=user, kind=kind, sources=[t.view_path for t in targets], destination=folder.view_path, conflict=conflict
    )
    filetask_queue(task)
    return task


def filetask_queue(task: FileTask) -> None:
    from ..tasks import filetask_run as run_task

    transaction.on_commit(lambda: run_task.delay(task.pk))


def filetask_cancel(*, user, task: FileTask) -> FileTask:
    """Ask a waiting or running task to stop; the worker cleans up the file it was writing."""
    if task.user_id != user.pk:
        raise PathError(_("No such task."), 404)
    if not task.is_finished:
        FileTask.objects.filter(pk=task.pk).update(cancel_requested=True)
        task.refresh_from_db()
    return task


# ---------------------------------------------------------------------------- run
def filetask_finish(task: FileTask, status: str, error: str = "") -> None:
    task.status, task.error, task.finished_at = status, error, timezone.now()
    task.save(update_fields=["status", "error", "finished_at", "bytes_done", "files_done"])
    task_publish(task)
    publish(user_group(task.user_id), "files.changed", {"folder": task.destination})


def filetask_run(*, task: FileTask) -> None:
    """Do a copy or move (safe to run again: finished tasks are left alone)."""
    if task.is_finished:
        return
    if task.cancel_requested:
        filetask_finish(task, FileTask.Status.CANCELLED)
        return
    task.status = FileTask.Status.RUNNING
    task.save(update_fields=["status"])
    try:
        folder = resolve(task.user, task.destination).require_writable()
        targets = _check_sources(task.user, task.sources, folder, kind=task.kind)
        _transfer(task, targets, folder)
    except Cancelled:
        filetask_finish(task, FileTask.Status.CANCELLED)
    except PathError as exc:
        filetask_finish(task, FileTask.Status.FAILED, exc.message)
    except OSError as exc:
        filetask_finish(task, FileTask.Status.FAILED, f"{exc.strerror or exc}: {Path(exc.filename or '').name}")
    else:
        filetask_finish(task, FileTask.Status.DONE)


def _transfer(task: FileTask, targets: list[Target], folder: Target) -> None:
    sizes = [tree_size(t.real) for t in targets]
    task.bytes_total, task.files_total = sum(s for s, _c in sizes), sum(c for _s, c in sizes)
    task.save(update_fields=["bytes_total", "files_total"])
    moving = task.kind == FileTask.Kind.MOVE
    if not (moving and all(same_device(t.real, folder.real) for t in targets)):
        check_free_space(folder.real, task.bytes_total)
    progress = Progress(task)
    progress.flush()
    for target in targets:
        _place(target.real, folder.real, target.name, progress, moving=moving, base=folder.base.real)
    progress.flush()


def _place(src: Path, folder: Path, name: str, progress: Progress, *, moving: bool, base: Path) -> None:
    dst = folder / name
    policy = progress.task.conflict
    if dst == src and moving:
        progress.add(nbytes=tree_size(src)[0], files=tree_size(src)[1])
        return
    if dst.exists() or dst.is_symlink():
        if policy == Conflict.SKIP:
            size, count = tree_size(src)
            progress.add(nbytes=size, files=count)
            return
        if policy == Conflict.KEEP_BOTH or dst == src:
            dst = folder / free_name(folder, name)
        elif src.is_dir() and not src.is_symlink() and dst.is_dir() and not dst.is_symlink():
            _merge(src, dst, progress, moving=moving, base=base)
            return
        else:
            remove_entry(dst)
    if moving and same_device(src, folder):
        size, count = tree_size(src)
        rename_noreplace(src, dst)  # a move on one file system is a rename, whatever the size
        progress.add(nbytes=size, files=count)
        return
    _copy_entry(src, dst, progress, base=base)
    if moving:
        remove_entry(src)


def _merge(src: Path, dst: Path, progress: Progress, *, moving: bool, base: Path) -> None:
    for child in sorted(os.listdir(src)):
        if not child.startswith(RESERVED_PREFIX):
            _place(src / child, dst, child, progress, moving=moving, base=base)
    if moving:
        shutil.rmtree(src, ignore_errors=True)


def _copy_entry(src: Path, dst: Path, progress: Progress, *, base: Path) -> None:
    if src.is_symlink():
        # Links are copied as links only while they point inside the root; escaping ones are left behind.
        if contained(Path(os.path.realpath(src)), base):
            os.symlink(os.readlink(src), dst)
        progress.add(files=1)
    elif src.is_dir():
        dst.mkdir()
        for child in sorted(os.listdir(src)):
            if not child.startswith(RESERVED_PREFIX):
                _copy_entry(src / child, dst / child, progress, base=base)
        shutil.copystat(src, dst, follow_symlinks=False)
    elif src.is_file():
        copy_file(src, dst, progress)
    else:
        progress.add(files=1)  # devices, sockets, fifos are not copied


def copy_file(src: Path, dst: Path, progress: Progress) -> None:
    """Copy into a hidden temporary file beside `dst`, then rename: a cancelled copy leaves nothing half-written."""
    temp = dst.with_name(f"{RESERVED_PREFIX}copy-{secrets.token_hex(8)}")
    try:
        with open(src, "rb") as fin, open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fout:
            _copy_data(fin.fileno(), fout.fileno(), progress)
        shutil.copystat(src, temp)
        rename_noreplace(temp, dst)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    progress.add(files=1)


def _copy_data(fin: int, fout: int, progress: Progress) -> None:
    use_range = True
    while True:
        if use_range:
            try:
                n = os.copy_file_range(fin, fout, STEP)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                use_range = False
                continue
        else:
            view = memoryview(os.read(fin, STEP))
            n = len(view)
            while view:
                view = view[os.write(fout, view) :]
        if n == 0:
            return
        progress.add(nbytes=n)
