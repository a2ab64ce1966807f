"""tus uploads: bytes go straight into a hidden partial file in the *target* folder (same disk), then one
atomic rename puts the finished file in place. The offset lives in the database, so an upload resumes after
a network drop, a page reload or a server restart."""

# fd-level work (os.open flags O_EXCL/O_NOFOLLOW, renameat2, *at calls) reads clearer with os.*:
# ruff: noqa: PTH123

import contextlib
import errno
import fcntl
import os
import re
import stat
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casaos_site.body_splice import Writer
from monitoring.counters import counter_add

from .. import fs
from ..models import Upload
from ..ownership import hand_over
from ..paths import (
    RESERVED_PREFIX,
    PathError,
    Target,
    all_roots,
    check_name,
    from_os_error,
    open_below,
    open_ours,
    resolve,
    resolve_in,
    split_view_path,
)
from ..tus import CHECKSUM_MISMATCH, TusError
from .common import changed, check_free_space, rename_free

PARTIAL_NAME = re.compile(rf"{re.escape(RESERVED_PREFIX)}upload-([0-9a-f]{{32}})\.part")
READ_SIZE = 4 * 1024 * 1024  # >= one message of the server (manage.py serve): each is handed on without a copy
CONFLICTS = ("keep_both", "overwrite", "fail")


def _folder(upload: Upload) -> Target:
    """The target folder, re-resolved on every request (a revoked grant or share stops the upload)."""
    if upload.share_id:
        from .shares import sharelink_target

        root = sharelink_target(share=upload.share, upload=True)
        return resolve_in(root.base, (*root.parts, *[p for p in upload.directory.split("/") if p]))
    return resolve(upload.user, upload.directory).require_writable()


def _subfolders(folder: Target, relative: str) -> Target:
    """Folders of a dropped folder tree ("photos/2024/a.jpg" → photos/2024): every name checked first, then made,
    each entered by descriptor (a name that is a file or a link there: 409)."""
    names = split_view_path(relative.rpartition("/")[0])
    for name in names:
        check_name(name)
    try:
        with folder.fd(fs.PATH_DIR) as fd:
            os.close(fs.make_dirs(fd, names, made=hand_over))
    except OSError as exc:
        if exc.errno != errno.ENOTDIR:
            raise from_os_error(exc) from exc  # a link on the way (ELOOP): changed while in use
        raise PathError(_("“%(name)s” is not a folder.") % {"name": exc.filename}, 409) from None
    for name in names:
        folder = folder.entry(name)
    return folder


def upload_create(*, user=None, share=None, directory: str, length: int, metadata: dict[str, str]) -> Upload:
    """Accept a new upload after checking the name, the size limit and the free space on the target disk."""
    if length > settings.FILES_UPLOAD_MAX_SIZE:
        raise TusError(413, _("This file is larger than the upload limit."))
    conflict = metadata.get("conflict", "keep_both")
    if conflict not in CONFLICTS:
        raise PathError(_("Unknown conflict policy."), 400)
    filename = check_name(metadata.get("filename") or metadata.get("name") or "")
    relative = metadata.get("relativePath") or ""
    probe = Upload(user=user, share=share, directory=directory)
    folder = _folder(probe)
    if not folder.is_dir():
        raise PathError(_("The destination is not a folder."), 400)
    check_free_space(folder, length)  # early, before any subfolder is made; _reserve checks again
    top = folder
    if relative:
        folder = _subfolders(folder, relative)
    if conflict == "fail" and folder.entry(filename).exists():
        raise PathError(_("“%(name)s” already exists.") % {"name": filename}, 409)
    upload_id = uuid.uuid4()
    view_dir = folder.view_path if share is None else "/".join(folder.parts[len(top.parts) :])
    upload = Upload(
        id=upload_id,
        user=user,
        share=share,
        directory=view_dir,
        filename=filename,
        partial=str(folder.real / f"{RESERVED_PREFIX}upload-{upload_id.hex}.part"),  # PARTIAL_NAME
        length=length,
        metadata=metadata,
        conflict=conflict,
    )
    _reserve(upload, folder)
    if length == 0:
        _complete(upload)
    return upload


def _reserve(upload: Upload, folder: Target) -> None:
    """Record the upload, make its partial file, then check the disk counting every other open upload's promise.

    The row comes first, so no partial file ever exists without one (a database that refuses the write leaves
    nothing on disk); any failure after it removes both. Every creation checks after its own row and file exist,
    so of two racing creations the later check counts the other: together they never promise more than the disk.
    """
    upload.save(force_insert=True)
    try:
        _partial_make(upload, folder)
    except BaseException:
        upload.delete()
        raise
    try:
        check_free_space(folder, upload.length, upload=upload)
    except BaseException:
        upload_terminate(upload=upload)
        raise


def _partial_make(upload: Upload, folder: Target) -> None:
    """The empty partial file, ours alone (a name nobody else may create, made in the folder's descriptor)."""
    try:
        with folder.fd(fs.PATH_DIR) as fd:
            os.close(os.open(_partial_name(upload), fs.CREATE | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=fd))
    except OSError as exc:  # a read-only or full disk, a folder we may not write: in the user's words
        raise from_os_error(exc, name=upload.filename) from exc


def _partial_name(upload: Upload) -> str:
    return Path(upload.partial).name


@contextlib.contextmanager
def _partial_file(upload: Upload) -> Iterator[tuple[int, "os.FileIO"]]:
    """(the target folder's descriptor, the partial file open for writing), both reached by descriptor.

    The partial must still sit in the (re-resolved) target folder: a grant revoked meanwhile stops here."""
    folder = _folder(upload)
    if Path(upload.partial).parent != folder.real:
        raise TusError(404, _("This upload no longer exists."))
    with folder.fd(fs.PATH_DIR) as dir_fd:
        try:
            fd = os.open(_partial_name(upload), os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise TusError(404, _("This upload no longer exists.")) from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise TusError(404, _("This upload no longer exists.")) from exc
            raise
        with open(fd, "r+b") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise TusError(404, _("This upload no longer exists."))
            yield dir_fd, fh


def upload_write(*, upload: Upload, offset: int, stream, content_length: int | None, checksum=None) -> int:
    """Append one PATCH body at `offset`; returns the new offset. A bad checksum leaves the file as it was."""
    if upload.status == Upload.Status.COMPLETE:
        raise TusError(403 if offset != upload.length else 409, _("This upload is already complete."))
    if offset != upload.offset:
        raise TusError(409, _("Upload-Offset does not match the server's offset."))
    remaining = upload.length - offset
    if content_length is not None and content_length > remaining:
        raise TusError(413, _("This request carries more bytes than the upload has left."))
    if content_length is not None and content_length > settings.FILES_UPLOAD_CHUNK_MAX:
        raise TusError(413, _("Send at most %(n)d bytes per request.") % {"n": settings.FILES_UPLOAD_CHUNK_MAX})
    with _partial_file(upload) as (_folder_fd, fh):
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TusError(423, _("Another request is writing this upload.")) from None
        fh.seek(offset)
        fh.truncate(offset)  # drop bytes a crashed request may have left beyond the recorded offset
        try:
            written = _copy_body(stream, fh.fileno(), offset, min(remaining, content_length or remaining), checksum)
        except OSError as exc:  # the disk filled up meanwhile (507), or failed
            fh.truncate(offset)  # nothing half-written: the client resends from the recorded offset
            raise from_os_error(exc) from exc
        if checksum is not None and checksum[0].digest() != checksum[1]:
            fh.truncate(offset)
            raise TusError(CHECKSUM_MISMATCH, _("Checksum mismatch: the chunk was discarded."))
        # The offset we answer must be on disk: after a power cut the database may never be ahead of the file.
        os.fdatasync(fh.fileno())
    new_offset = offset + written
    if not Upload.objects.filter(pk=upload.pk, offset=offset).update(offset=new_offset, updated_at=timezone.now()):
        raise TusError(409, _("The upload moved on meanwhile."))
    upload.offset = new_offset
    if new_offset == upload.length:
        _complete(upload)
    return new_offset


def _copy_body(stream, fd: int, offset: int, limit: int, checksum) -> int:
    """Write the body at `offset`, starting each written stretch on its way to the disk as it comes (the
    fdatasync at the end then has little left to wait for). Without a checksum to compute, and on a server that
    can (manage.py serve), the bytes go from the socket to the file inside the kernel."""
    splice = getattr(stream, "splice_into", None)
    if checksum is None and splice is not None:
        written = splice(fd, offset, write_behind=True)
        if written is not None:
            return written
    writer = Writer(fd, offset, write_behind=True)
    while writer.offset - offset < limit:
        chunk = stream.read(min(READ_SIZE, limit - (writer.offset - offset)))
        if not chunk:
            break
        writer.write(chunk)
        if checksum is not None:
            checksum[0].update(chunk)
    return writer.offset - offset


def _complete(upload: Upload) -> None:
    """Make the bytes durable, then rename the partial into place under the conflict policy."""
    with _partial_file(upload) as (folder, fh):
        os.fsync(fh.fileno())
        os.fchmod(fh.fileno(), 0o644)
        hand_over(fh.fileno())
        if upload.conflict == "overwrite":
            name = upload.filename
            os.replace(_partial_name(upload), name, src_dir_fd=folder, dst_dir_fd=folder)
        else:
            name = _rename_free(folder, upload)
    final = "/".join(filter(None, (upload.directory, name)))
    Upload.objects.filter(pk=upload.pk).update(
        status=Upload.Status.COMPLETE, final_path=final, updated_at=timezone.now()
    )
    upload.status, upload.final_path = Upload.Status.COMPLETE, final
    counter_add("uploads")
    counter_add("upload_bytes", amount=upload.length)
    if upload.user_id:
        changed(user=upload.user, folder=upload.directory)


def _rename_free(folder: int, upload: Upload) -> str:
    if upload.conflict != "fail":
        return rename_free(folder, _partial_name(upload), folder, upload.filename)
    try:
        fs.rename_noreplace(folder, _partial_name(upload), folder, upload.filename)
    except FileExistsError:
        raise TusError(409, _("“%(name)s” already exists.") % {"name": upload.filename}) from None
    return upload.filename


def upload_terminate(*, upload: Upload) -> None:
    """tus termination: drop the partial file and the record."""
    if upload.status == Upload.Status.ACTIVE:
        _partial_remove(Path(upload.partial))
    upload.delete()


def _partial_remove(partial: Path) -> None:
    """Delete a partial file by its place beneath the root, with no link on the way (a folder swapped for one
    meanwhile leaves it to the hourly cleanup, which finds it by descriptor)."""
    try:
        with fs.held(open_ours(partial.parent, fs.PATH_DIR)) as fd:
            os.unlink(partial.name, dir_fd=fd)
    except (ValueError, OSError, PathError):
        pass  # its disk is away: the hourly cleanup finds the file once the disk is back


def uploads_expire() -> int:
    """Remove uploads untouched for CASAOS_FILES_UPLOAD_EXPIRY_HOURS, and partial files as old that no upload owns
    (left by a crash or an older version); the hourly cleanup. Returns how many of either went."""
    cutoff = timezone.now() - timedelta(hours=settings.FILES_UPLOAD_EXPIRY_HOURS)
    stale = list(Upload.objects.filter(updated_at__lt=cutoff))
    for upload in stale:
        with transaction.atomic():
            upload_terminate(upload=upload)
    return len(stale) + _orphans_remove(cutoff.timestamp())


def _orphans_remove(cutoff: float) -> int:
    """Delete partial upload files under the files root last written before `cutoff` whose upload has no row."""
    found = dict(_partials_older_than(cutoff))
    owned = {u.hex for u in Upload.objects.filter(pk__in=[uuid.UUID(h) for h in found]).values_list("pk", flat=True)}
    for upload_hex in found.keys() - owned:
        _partial_remove(found[upload_hex])
    return len(found.keys() - owned)


def _partials_older_than(cutoff: float) -> Iterator[tuple[str, Path]]:
    """(upload id in hex, its real path) of each partial upload file not written since `cutoff`, on the files root
    and every disk mounted now; the walk enters folders by descriptor and skips our own `.casaos-` folders (the
    trash keeps what it holds)."""
    for root in all_roots():
        try:
            top = open_below(root, (), fs.PATH_DIR)
        except (PathError, OSError):
            continue  # a disk that is not mounted: its partial files wait for it
        with fs.held(top):
            for parts, st, _folder in fs.tree(
                top, skip=lambda name: name.startswith(RESERVED_PREFIX) and not PARTIAL_NAME.fullmatch(name)
            ):
                match = PARTIAL_NAME.fullmatch(parts[-1])
                if match and stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff:
                    yield match[1], root.path.joinpath(*parts)
