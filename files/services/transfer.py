"""Copy and move of files and trees as worker tasks: progress in bytes and files, cancel, conflict policy."""

# fd-level work (os.open flags O_EXCL/O_NOFOLLOW, renameat2, copy_file_range, *at calls) reads clearer with os.*:

import contextlib
import errno
import os
import secrets
import shutil
import stat
import time
from pathlib import PurePosixPath

from django.db import transaction
from django.utils import timezone

from casaos_site.events import publish
from casaos_site.i18n import deferred

from .. import fs
from ..fs import held, lstat_at, open_beneath
from ..models import FileTask
from ..ownership import hand_over
from ..paths import RESERVED_PREFIX, PathError, Target, from_os_error, resolve, resolve_in, resolve_many
from .common import check_free_space, free_name, reserved, same_device, tree_size, user_group

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


class Tally:
    """What a copy reports to: nothing by default (a move into the trash across disks)."""

    def __init__(self) -> None:
        self.made: set[tuple[int, int]] = set()  # folders this copy made: never copied into themselves

    def add(self, *, nbytes: int = 0, files: int = 0) -> None:
        pass


class Progress(Tally):
    """Counts bytes and files of a running task, saves and publishes them now and then, and notices cancel."""

    def __init__(self, task: FileTask):
        super().__init__()
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
        raise PathError(deferred("Choose at least one file or folder."), 400)
    targets = resolve_many(user, sources, follow=False)
    for target in targets:
        if target.is_base:
            raise PathError(deferred("This folder cannot be moved or copied."), 400)
        if not target.exists():
            raise PathError(deferred("“%(name)s” no longer exists.", name=target.name), 404)
        if kind == FileTask.Kind.MOVE:
            target.require_writable()
        if folder.real.is_relative_to(target.real):
            raise PathError(deferred("A folder cannot be put inside itself."), 400)
    return targets


def filetask_create(
    *, user, kind: str, sources: list[str], destination: str, conflict: str = Conflict.KEEP_BOTH
) -> FileTask:
    """Check every path now (a bad one queues nothing), record the task and queue it after commit."""
    if kind not in (FileTask.Kind.COPY, FileTask.Kind.MOVE):
        raise PathError(deferred("Unknown operation."), 400)
    if conflict not in Conflict.values:
        raise PathError(deferred("Unknown conflict policy."), 400)
    folder = resolve(user, destination).require_writable()
    if not folder.is_dir():
        raise PathError(deferred("The destination is not a folder."), 400)
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
        raise PathError(deferred("No such task."), 404)
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
        filetask_finish(task, FileTask.Status.FAILED, exc.stored)
    except OSError as exc:
        filetask_finish(task, FileTask.Status.FAILED, from_os_error(exc).stored)
    else:
        filetask_finish(task, FileTask.Status.DONE)


def _transfer(task: FileTask, targets: list[Target], folder: Target) -> None:
    sizes = [tree_size(t) for t in targets]
    task.bytes_total, task.files_total = sum(s for s, _c in sizes), sum(c for _s, c in sizes)
    task.save(update_fields=["bytes_total", "files_total"])
    moving = task.kind == FileTask.Kind.MOVE
    if not (moving and all(same_device(t, folder) for t in targets)):
        check_free_space(folder, task.bytes_total)
    progress = Progress(task)
    progress.flush()
    with folder.fd(fs.PATH_DIR) as destination:
        for target in targets:
            with target.folder() as (source, name):
                _place(Entry(source, name), Folder(destination, folder), progress, moving=moving)
    progress.flush()


class Entry:
    """A source entry: the descriptor of its folder and its name there."""

    def __init__(self, folder: int, name: str):
        self.folder, self.name = folder, name

    def lstat(self) -> os.stat_result:
        return lstat_at(self.folder, self.name)


class Folder:
    """A destination folder: its descriptor and, for a user's copy, its Target (where a copied link is judged)."""

    def __init__(self, fd: int, target: Target | None):
        self.fd, self.target = fd, target

    def inside(self, fd: int, name: str) -> "Folder":
        """Its subfolder `name`, open as `fd`."""
        return Folder(fd, self.target and self.target.entry(name))


def _place(src: Entry, dst: Folder, progress: Progress, *, moving: bool) -> None:
    """Put one entry into the folder `dst` under the task's conflict policy (by rename on one disk)."""
    policy, name = progress.task.conflict, src.name
    same_folder = _identity(os.fstat(src.folder)) == _identity(os.fstat(dst.fd))
    if same_folder and moving:
        _count(progress, _sizes(src))
        return
    if fs.exists_at(dst.fd, name):
        if policy == Conflict.SKIP:
            _count(progress, _sizes(src))
            return
        if policy == Conflict.KEEP_BOTH or same_folder:
            name = free_name(dst.fd, name)
        elif stat.S_ISDIR(src.lstat().st_mode) and fs.is_dir_at(dst.fd, name):
            _merge(src, dst, progress, moving=moving)
            return
        else:
            fs.remove_at(dst.fd, name)
    if moving and src.lstat().st_dev == os.fstat(dst.fd).st_dev:
        sizes = _sizes(src)
        fs.rename_noreplace(src.folder, src.name, dst.fd, name)  # a move on one file system is a rename, any size
        _count(progress, sizes)
        return
    copy_entry(src, dst, name, progress)
    if moving:
        fs.remove_at(src.folder, src.name)


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _count(progress: Tally, sizes: tuple[int, int]) -> None:
    progress.add(nbytes=sizes[0], files=sizes[1])


def _sizes(src: Entry) -> tuple[int, int]:
    with held(open_beneath(src.folder, (src.name,))) as fd:
        return fs.size_of(fd, skip=reserved)


def _merge(src: Entry, dst: Folder, progress: Progress, *, moving: bool) -> None:
    with (
        held(open_beneath(src.folder, (src.name,), fs.PATH_DIR)) as inner,
        held(open_beneath(dst.fd, (src.name,), fs.PATH_DIR)) as target,
    ):
        for child in fs.names(inner):
            if not reserved(child):
                _place(Entry(inner, child), dst.inside(target, src.name), progress, moving=moving)
    if moving:
        shutil.rmtree(src.name, dir_fd=src.folder, ignore_errors=True)


def copy_entry(src: Entry, dst: Folder, name: str, progress: Tally) -> None:
    """Copy a file, link or folder tree into `dst` as `name`, every entry made by descriptor in its folder."""
    st = src.lstat()
    if stat.S_ISLNK(st.st_mode):
        # A link is copied only if, from where the copy lands, it leads beneath the base (read once: the text
        # judged is the text written); others are left behind.
        text = os.readlink(src.name, dir_fd=src.folder)
        if dst.target is None or _leads_inside(dst.target, text):
            os.symlink(text, name, dir_fd=dst.fd)
        progress.add(files=1)
    elif stat.S_ISDIR(st.st_mode) and _identity(st) not in progress.made:
        _copy_folder(src, st, dst, name, progress)
    elif stat.S_ISREG(st.st_mode):
        copy_file(src, dst.fd, name, progress)
    else:
        progress.add(files=1)  # devices, sockets, fifos are not copied


def _leads_inside(folder: Target, text: str) -> bool:
    """A link reading `text`, made in `folder`, leads to a place beneath the folder's base (or to nothing yet)."""
    path = PurePosixPath(text)
    if path.is_absolute() and not path.is_relative_to(folder.base.real):
        return False
    parts = path.relative_to(folder.base.real).parts if path.is_absolute() else (*folder.resolved, *path.parts)
    try:
        resolve_in(folder.base, parts)
    except PathError:
        return False
    return True


def _copy_folder(src: Entry, st: os.stat_result, dst: Folder, name: str, progress: Tally) -> None:
    os.mkdir(name, 0o700, dir_fd=dst.fd)
    with (
        held(open_beneath(src.folder, (src.name,), fs.PATH_DIR)) as inner,
        held(open_beneath(dst.fd, (name,), fs.DIR_READ)) as made,
    ):
        progress.made.add(_identity(os.fstat(made)))
        for child in fs.names(inner):
            if not reserved(child):
                copy_entry(Entry(inner, child), dst.inside(made, name), child, progress)
        os.fchmod(made, stat.S_IMODE(st.st_mode))
        hand_over(made)
        os.utime(made, ns=(st.st_atime_ns, st.st_mtime_ns))


def copy_file(src: Entry, dst_dir: int, name: str, progress: Tally) -> None:
    """Copy into a hidden temporary file beside `dst`, then rename: a cancelled copy leaves nothing half-written."""
    temp = f"{RESERVED_PREFIX}copy-{secrets.token_hex(8)}"
    try:
        with (
            held(open_beneath(src.folder, (src.name,), fs.READ)) as fin,
            held(os.open(temp, fs.CREATE | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dst_dir)) as fout,
        ):
            st = os.fstat(fin)
            _copy_data(fin, fout, progress)
            os.fchmod(fout, stat.S_IMODE(st.st_mode))
            hand_over(fout)
            os.utime(fout, ns=(st.st_atime_ns, st.st_mtime_ns))
        fs.rename_noreplace(dst_dir, temp, dst_dir, name)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dst_dir)
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
