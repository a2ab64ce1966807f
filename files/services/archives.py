"""Extract zip/tar archives safely and compress a selection into a zip, as worker tasks with progress.

Extraction checks the whole member list before writing a byte (traversal, absolute names, links that
point out, device files, too many entries, too many bytes, a suspicious compression ratio), unpacks into
a hidden staging folder on the target disk, and only then renames the entries into place.
"""

# fd-level work (os.open flags O_EXCL/O_NOFOLLOW, renameat2, copy_file_range) reads clearer with os.*:
# ruff: noqa: PTH123, PTH208, PTH211

import os
import secrets
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext as _

from ..models import FileTask
from ..paths import RESERVED_PREFIX, PathError, Target, check_name, resolve
from .common import check_free_space, free_name, rename_noreplace, tree_size
from .transfer import Cancelled, Progress, filetask_finish, filetask_queue
from .zipstream import write_zip

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


# ---------------------------------------------------------------------------- create
def extract_create(*, user, path: str, destination: str) -> FileTask:
    """Queue the extraction of the archive at `path` into the folder `destination`."""
    archive = resolve(user, path)
    if not archive.real.is_file() or not is_archive(archive.name):
        raise PathError(_("This is not a zip or tar archive."), 400)
    folder = resolve(user, destination).require_writable()
    if not folder.real.is_dir():
        raise PathError(_("The destination is not a folder."), 400)
    return _create(user, FileTask.Kind.EXTRACT, [archive.view_path], folder.view_path)


def compress_create(*, user, paths: list[str], destination: str, name: str) -> FileTask:
    """Queue a zip of the selection, written to `destination`/`name` (".zip" added when missing)."""
    if not paths:
        raise PathError(_("Choose at least one file or folder."), 400)
    targets = [resolve(user, p, follow=False) for p in paths]
    if not all(t.real.exists() for t in targets):
        raise PathError(_("No such file or folder."), 404)
    folder = resolve(user, destination).require_writable()
    name = check_name(name if name.lower().endswith(".zip") else f"{name}.zip")
    return _create(user, FileTask.Kind.COMPRESS, [t.view_path for t in targets], f"{folder.view_path}\n{name}")


def _create(user, kind, sources, destination) -> FileTask:
    task = FileTask.objects.create(user=user, kind=kind, sources=sources, destination=destination)
    filetask_queue(task)
    return task


# ---------------------------------------------------------------------------- member checks
def _safe_parts(name: str) -> tuple[str, ...]:
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or any(p == ".." for p in posix.parts):
        raise PathError(_("The archive contains a path leading outside (%(name)s).") % {"name": name}, 400)
    parts = tuple(p for p in posix.parts if p not in ("", "."))
    for part in parts:
        check_name(part)
    return parts


def _zip_members(zf: zipfile.ZipFile) -> list[tuple[tuple[str, ...], zipfile.ZipInfo]]:
    members = []
    for info in zf.infolist():
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0: made on a system without Unix file types
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            raise PathError(_("The archive contains links or device files (%(name)s).") % {"name": info.filename}, 400)
        parts = _safe_parts(info.filename)
        if parts:
            members.append((parts, info))
    return members


def _tar_members(tf: tarfile.TarFile, dest: Path) -> list[tuple[tuple[str, ...], tarfile.TarInfo]]:
    members = []
    for info in tf.getmembers():
        if not (info.isreg() or info.isdir() or info.issym()):
            raise PathError(_("The archive contains links or device files (%(name)s).") % {"name": info.name}, 400)
        parts = _safe_parts(info.name)
        try:
            tarfile.data_filter(info, str(dest))  # the standard library's own check for links pointing out
        except tarfile.FilterError as exc:
            raise PathError(
                _("The archive contains a link leading outside (%(name)s).") % {"name": info.name}, 400
            ) from exc
        if parts:
            members.append((parts, info))
    return members


def _check_bomb(count: int, unpacked: int, packed: int) -> None:
    if count > settings.FILES_EXTRACT_MAX_ENTRIES:
        raise PathError(_("The archive has too many entries."), 400)
    if unpacked > settings.FILES_EXTRACT_MAX_SIZE:
        raise PathError(_("The archive unpacks to more than the allowed size."), 400)
    if packed and unpacked > 1024 * 1024 and unpacked / packed > settings.FILES_EXTRACT_MAX_RATIO:
        raise PathError(_("The archive's compression ratio looks like a decompression bomb."), 400)


# ---------------------------------------------------------------------------- run
def archive_run(*, task: FileTask) -> None:
    """Worker side of extract and compress (finished tasks are left alone)."""
    if task.is_finished:
        return
    task.status = FileTask.Status.RUNNING
    task.save(update_fields=["status"])
    staging = None
    try:
        if task.kind == FileTask.Kind.EXTRACT:
            staging = _extract(task)
        else:
            _compress(task)
    except Cancelled:
        filetask_finish(task, FileTask.Status.CANCELLED)
    except PathError as exc:
        filetask_finish(task, FileTask.Status.FAILED, exc.message)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        filetask_finish(task, FileTask.Status.FAILED, str(exc))
    else:
        filetask_finish(task, FileTask.Status.DONE)
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _extract(task: FileTask) -> Path:
    archive = resolve(task.user, task.sources[0])
    folder = resolve(task.user, task.destination).require_writable()
    staging = folder.real / f"{RESERVED_PREFIX}extract-{secrets.token_hex(8)}"
    packed = archive.real.stat().st_size
    progress = Progress(task)
    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive.real) as zf:
            members = _zip_members(zf)
            _prepare(task, members, sum(i.file_size for _p, i in members), packed, folder, staging)
            for parts, info in members:
                _write_member(staging, parts, info.is_dir(), lambda i=info: zf.open(i), info.file_size, progress)
    else:
        with tarfile.open(archive.real) as tf:
            members = _tar_members(tf, str(staging))
            _prepare(task, members, sum(i.size for _p, i in members if i.isreg()), packed, folder, staging)
            for parts, info in members:
                if info.issym():
                    (staging.joinpath(*parts[:-1])).mkdir(parents=True, exist_ok=True)
                    os.symlink(info.linkname, staging.joinpath(*parts))
                    continue
                _write_member(staging, parts, info.isdir(), lambda i=info: tf.extractfile(i), info.size, progress)
    _place_extracted(staging, folder)
    progress.flush()
    return staging


def _prepare(task, members, unpacked: int, packed: int, folder: Target, staging: Path) -> None:
    _check_bomb(len(members), unpacked, packed)
    check_free_space(folder.real, unpacked)
    task.bytes_total, task.files_total = unpacked, len(members)
    task.save(update_fields=["bytes_total", "files_total"])
    staging.mkdir()


def _write_member(staging: Path, parts, is_dir: bool, opener, declared: int, progress: Progress) -> None:
    target = staging.joinpath(*parts)
    if is_dir:
        target.mkdir(parents=True, exist_ok=True)
        progress.add(files=1)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with (
        opener() as src,
        open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "wb") as dst,
    ):
        while chunk := src.read(1024 * 1024):
            written += len(chunk)
            if written > declared:  # an entry that lies about its size is a bomb
                raise PathError(_("The archive's sizes do not match its content."), 400)
            dst.write(chunk)
            progress.add(nbytes=len(chunk))
    progress.add(files=1)


def _place_extracted(staging: Path, folder: Target) -> None:
    for name in sorted(os.listdir(staging)):
        rename_noreplace(staging / name, folder.real / free_name(folder.real, name))


def _compress(task: FileTask) -> None:
    folder_path, _sep, name = task.destination.partition("\n")
    folder = resolve(task.user, folder_path).require_writable()
    targets = [resolve(task.user, p, follow=False) for p in task.sources]
    sizes = [tree_size(t.real) for t in targets]
    task.bytes_total, task.files_total = sum(s for s, _c in sizes), sum(c for _s, c in sizes)
    task.save(update_fields=["bytes_total", "files_total"])
    check_free_space(folder.real, task.bytes_total)
    progress = Progress(task)
    temp = folder.real / f"{RESERVED_PREFIX}zip-{secrets.token_hex(8)}"
    try:
        with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "wb") as fh:
            for chunk in write_zip(targets, on_bytes=lambda n: progress.add(nbytes=n)):
                fh.write(chunk)
        rename_noreplace(temp, folder.real / free_name(folder.real, name))
    finally:
        temp.unlink(missing_ok=True)
    progress.flush()
