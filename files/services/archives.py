"""Extract zip/tar archives safely and compress a selection into a zip, as worker tasks with progress.

Extraction checks the whole member list before writing a byte (traversal, absolute names, links that
point out, device files, too many entries, too many bytes, a suspicious compression ratio), unpacks into
a hidden staging folder on the target disk, and only then renames the entries into place. The archive is read
from a descriptor and every entry is made by descriptor in the staging folder, itself made in the destination's
descriptor, held from start to end.
"""

# fd-level work (os.open flags O_EXCL/O_NOFOLLOW, renameat2, *at calls) reads clearer with os.*:
# ruff: noqa: PTH123

import contextlib
import os
import secrets
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from django.conf import settings

from casaos_site.i18n import deferred

from .. import fs
from ..fs import held
from ..models import FileTask
from ..ownership import hand_over
from ..paths import RESERVED_PREFIX, PathError, Target, check_name, from_os_error, resolve, resolve_many
from .common import check_free_space, rename_free, tree_size
from .transfer import Cancelled, Progress, filetask_finish, filetask_queue
from .zipstream import write_zip

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


# ---------------------------------------------------------------------------- create
def extract_create(*, user, path: str, destination: str) -> FileTask:
    """Queue the extraction of the archive at `path` into the folder `destination`."""
    archive = resolve(user, path)
    if not archive.is_file() or not is_archive(archive.name):
        raise PathError(deferred("This is not a zip or tar archive."), 400)
    folder = resolve(user, destination).require_writable()
    if not folder.is_dir():
        raise PathError(deferred("The destination is not a folder."), 400)
    return _create(user, FileTask.Kind.EXTRACT, [archive.view_path], folder.view_path)


def compress_create(*, user, paths: list[str], destination: str, name: str) -> FileTask:
    """Queue a zip of the selection, written to `destination`/`name` (".zip" added when missing)."""
    if not paths:
        raise PathError(deferred("Choose at least one file or folder."), 400)
    targets = resolve_many(user, paths, follow=False)
    if not all(t.exists() for t in targets):
        raise PathError(deferred("No such file or folder."), 404)
    folder = resolve(user, destination).require_writable()
    name = check_name(name if name.lower().endswith(".zip") else f"{name}.zip")
    return _create(user, FileTask.Kind.COMPRESS, [t.view_path for t in targets], f"{folder.view_path}\n{name}")


def _create(user, kind, sources, destination) -> FileTask:
    task = FileTask.objects.create(user=user, kind=kind, sources=sources, destination=destination)
    filetask_queue(task)
    return task


# ---------------------------------------------------------------------------- member checks
@dataclass
class Member:
    """One checked entry of an archive: where it goes, what it is, and how to read it."""

    parts: tuple[str, ...]
    kind: int  # stat.S_IFREG, S_IFDIR or S_IFLNK
    size: int = 0
    opener: Callable[[], IO[bytes]] | None = None
    linkname: str = ""


def _safe_parts(name: str) -> tuple[str, ...]:
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or any(p == ".." for p in posix.parts):
        raise PathError(deferred("The archive contains a path leading outside (%(name)s).", name=name), 400)
    parts = tuple(p for p in posix.parts if p not in ("", "."))
    for part in parts:
        check_name(part)
    return parts


def _zip_members(zf: zipfile.ZipFile) -> list[Member]:
    members = []
    for info in zf.infolist():
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0: made on a system without Unix file types
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            raise PathError(deferred("The archive contains links or device files (%(name)s).", name=info.filename), 400)
        parts = _safe_parts(info.filename)
        if parts and info.is_dir():
            members.append(Member(parts, stat.S_IFDIR))
        elif parts:
            members.append(Member(parts, stat.S_IFREG, info.file_size, lambda i=info: zf.open(i)))
    return members


def _tar_members(tf: tarfile.TarFile) -> list[Member]:
    members = []
    for info in tf.getmembers():
        if not (info.isreg() or info.isdir() or info.issym()):
            raise PathError(deferred("The archive contains links or device files (%(name)s).", name=info.name), 400)
        parts = _safe_parts(info.name)
        if parts:
            members.append(_tar_member(tf, parts, info))
    _check_links(members)
    return members


def _check_links(members: list[Member]) -> None:
    """Every link leads into the archive's own tree, never through another of its links (each one alone may stay
    inside while a chain steps out), and no entry is written through one. Judged on the names alone: nothing of the
    archive is on disk yet, and nothing outside it is looked at."""
    links = {m.parts for m in members if m.kind == stat.S_IFLNK}
    for member in members:
        through = any(member.parts[:n] in links for n in range(1, len(member.parts)))
        if through or (member.kind == stat.S_IFLNK and not _lands_inside(member, links)):
            name = "/".join(member.parts)
            raise PathError(deferred("The archive contains a link leading outside (%(name)s).", name=name), 400)


def _lands_inside(link: Member, links: set[tuple[str, ...]]) -> bool:
    """The link's text, walked from its folder, stays in the archive's tree and passes no other link of it."""
    target = PurePosixPath(link.linkname)
    if not link.linkname or target.is_absolute():
        return False
    where = list(link.parts[:-1])
    for part in target.parts:
        if part == "..":
            if not where:
                return False
            where.pop()
        elif part != ".":
            where.append(part)
            if tuple(where) in links:
                return False
    return True


def _tar_member(tf: tarfile.TarFile, parts: tuple[str, ...], info: tarfile.TarInfo) -> Member:
    if info.issym():
        return Member(parts, stat.S_IFLNK, linkname=info.linkname)
    if info.isdir():
        return Member(parts, stat.S_IFDIR)
    return Member(parts, stat.S_IFREG, info.size, lambda: tf.extractfile(info))


def _check_bomb(count: int, unpacked: int, packed: int) -> None:
    if count > settings.FILES_EXTRACT_MAX_ENTRIES:
        raise PathError(deferred("The archive has too many entries."), 400)
    if unpacked > settings.FILES_EXTRACT_MAX_SIZE:
        raise PathError(deferred("The archive unpacks to more than the allowed size."), 400)
    if packed and unpacked > 1024 * 1024 and unpacked / packed > settings.FILES_EXTRACT_MAX_RATIO:
        raise PathError(deferred("The archive's compression ratio looks like a decompression bomb."), 400)


# ---------------------------------------------------------------------------- run
def archive_run(*, task: FileTask) -> None:
    """Worker side of extract and compress (finished tasks are left alone)."""
    if task.is_finished:
        return
    task.status = FileTask.Status.RUNNING
    task.save(update_fields=["status"])
    try:
        if task.kind == FileTask.Kind.EXTRACT:
            _extract(task)
        else:
            _compress(task)
    except Cancelled:
        filetask_finish(task, FileTask.Status.CANCELLED)
    except PathError as exc:
        filetask_finish(task, FileTask.Status.FAILED, exc.stored)
    except OSError as exc:
        filetask_finish(task, FileTask.Status.FAILED, from_os_error(exc).stored)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        filetask_finish(task, FileTask.Status.FAILED, deferred("The archive cannot be read: %(error)s", error=str(exc)))
    else:
        filetask_finish(task, FileTask.Status.DONE)


def _extract(task: FileTask) -> None:
    archive = resolve(task.user, task.sources[0])
    folder = resolve(task.user, task.destination).require_writable()
    staging = f"{RESERVED_PREFIX}extract-{secrets.token_hex(8)}"
    with archive.fd(fs.READ) as source, folder.fd(fs.PATH_DIR) as destination:
        st = os.fstat(source)
        if not stat.S_ISREG(st.st_mode):
            raise PathError(deferred("This is not a zip or tar archive."), 400)
        with _members(archive.name, os.dup(source)) as members:
            _prepare(task, members, st.st_size, folder)
            progress = Progress(task)
            with _staging(destination, staging) as fd:
                for member in members:
                    _write_member(fd, member, progress)
                for name in fs.names(fd):
                    rename_free(fd, name, destination, name)
            progress.flush()


@contextlib.contextmanager
def _members(name: str, fd: int) -> Iterator[list[Member]]:
    """Every member of the archive open as `fd`, all checked before the first is written; the archive stays open
    while they are read."""
    with open(fd, "rb") as fh:
        if name.lower().endswith(".zip"):
            with zipfile.ZipFile(fh) as zf:
                yield _zip_members(zf)
        else:
            with tarfile.open(fileobj=fh) as tf:
                yield _tar_members(tf)


@contextlib.contextmanager
def _staging(destination: int, name: str) -> Iterator[int]:
    """A hidden folder of ours in the destination, by descriptor; removed with whatever is left in it."""
    os.mkdir(name, 0o700, dir_fd=destination)
    try:
        with held(fs.open_beneath(destination, (name,), fs.PATH_DIR)) as staging:
            yield staging
    finally:
        fs.remove_at(destination, name)


def _prepare(task, members: list[Member], packed: int, folder: Target) -> None:
    unpacked = sum(m.size for m in members)
    _check_bomb(len(members), unpacked, packed)
    check_free_space(folder, unpacked)
    task.bytes_total, task.files_total = unpacked, len(members)
    task.save(update_fields=["bytes_total", "files_total"])


def _write_member(staging: int, member: Member, progress: Progress) -> None:
    """One entry, made in its folder's descriptor (its folders made on the way, none of them ever a link)."""
    if member.kind == stat.S_IFDIR:
        os.close(fs.make_dirs(staging, member.parts, made=hand_over))
        progress.add(files=1)
        return
    with held(fs.make_dirs(staging, member.parts[:-1], made=hand_over)) as folder:
        if member.kind == stat.S_IFLNK:
            os.symlink(member.linkname, member.parts[-1], dir_fd=folder)
            return
        fd = os.open(member.parts[-1], fs.CREATE | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=folder)
    hand_over(fd)
    written = 0
    with open(fd, "wb") as dst, member.opener() as src:
        while chunk := src.read(1024 * 1024):
            written += len(chunk)
            if written > member.size:  # an entry that lies about its size is a bomb
                raise PathError(deferred("The archive's sizes do not match its content."), 400)
            dst.write(chunk)
            progress.add(nbytes=len(chunk))
    progress.add(files=1)


def _compress(task: FileTask) -> None:
    folder_path, _sep, name = task.destination.partition("\n")
    folder = resolve(task.user, folder_path).require_writable()
    targets = resolve_many(task.user, task.sources, follow=False)
    sizes = [tree_size(t) for t in targets]
    task.bytes_total, task.files_total = sum(s for s, _c in sizes), sum(c for _s, c in sizes)
    task.save(update_fields=["bytes_total", "files_total"])
    check_free_space(folder, task.bytes_total)
    progress = Progress(task)
    temp = f"{RESERVED_PREFIX}zip-{secrets.token_hex(8)}"
    with folder.fd(fs.PATH_DIR) as destination:
        try:
            with open(os.open(temp, fs.CREATE | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=destination), "wb") as fh:
                hand_over(fh.fileno())
                for chunk in write_zip(targets, on_bytes=lambda n: progress.add(nbytes=n)):
                    fh.write(chunk)
            rename_free(destination, temp, destination, name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp, dir_fd=destination)
    progress.flush()
