"""Small helpers every file service shares: free names, entry sizes, free space, events. Every one works on
directory descriptors (files/fs.py), never on a path string."""

import os
from pathlib import Path

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from casaos_site.events import publish_on_commit
from casaos_site.i18n import deferred

from .. import fs
from ..models import Upload
from ..paths import RESERVED_PREFIX, PathError, Target, open_ours


def user_group(user_id: int) -> str:
    """The Channels group of one user's file events (task progress, folder changes)."""
    return f"files.user.{user_id}"


def changed(*, user, folder: str) -> None:
    """Tell the user's open pages that a folder's content changed (after commit)."""
    publish_on_commit(user_group(user.pk), "files.changed", {"folder": folder})


def free_name(dir_fd: int, name: str) -> str:
    """`name`, or "name (1).ext", "name (2).ext"… the first that does not exist in the folder (keep-both policy)."""
    if not fs.exists_at(dir_fd, name):
        return name
    stem, dot, ext = name.partition(".") if not name.startswith(".") else (name, "", "")
    for n in range(1, 10_000):
        candidate = f"{stem} ({n}){dot}{ext}"
        if not fs.exists_at(dir_fd, candidate):
            return candidate
    raise PathError(deferred("Too many files with this name."), 409)


def rename_free(src_dir: int, src: str, dst_dir: int, wanted: str) -> str:
    """Rename `src` into `dst_dir` as `wanted` or the first free "wanted (n)"; returns the name it took. A name taken
    between the look and the rename (a user, an upload, another task) moves on to the next: nothing is replaced."""
    for _attempt in range(20):
        name = free_name(dst_dir, wanted)
        try:
            fs.rename_noreplace(src_dir, src, dst_dir, name)
        except FileExistsError:
            continue
        return name
    raise PathError(deferred("Could not find a free name."), 409)


def reserved(name: str) -> bool:
    """Our own entries (partial uploads, staging folders, the trash): never listed, copied, zipped or counted."""
    return name.startswith(RESERVED_PREFIX)


def tree_size(target: Target) -> tuple[int, int]:
    """(bytes, files) of a file or a folder tree; symlinks count as themselves, never followed."""
    with target.fd() as fd:
        return fs.size_of(fd, skip=reserved)


def check_free_space(folder: Target, needed: int, *, upload: Upload | None = None) -> None:
    """Refuse (507) what would not fit on the target disk beside the bytes open uploads there may still write and
    the configured reserve. `upload`: the upload being checked, already recorded (its promise is `needed`)."""
    with folder.fd() as fd:
        vfs, device = os.statvfs(fd), os.fstat(fd).st_dev
    free = vfs.f_bavail * vfs.f_frsize
    promised = _promised_to_uploads(device, exclude=upload)
    reserve = settings.FILES_FREE_SPACE_RESERVE
    if needed + promised + reserve > free:
        raise PathError(_no_space_message(needed=needed, free=free, promised=promised, reserve=reserve), 507)


def _promised_to_uploads(device: int, *, exclude: Upload | None) -> int:
    """Bytes the open uploads on this file system may still write (length - offset); each one's partial file tells
    which file system it is on."""
    rows = Upload.objects.filter(status=Upload.Status.ACTIVE)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    promised = 0
    for partial, length, offset in rows.values_list("partial", "length", "offset"):
        try:
            with fs.held(open_ours(Path(partial))) as fd:
                if os.fstat(fd).st_dev == device:
                    promised += max(length - offset, 0)
        except (OSError, ValueError, PathError):
            continue  # no partial file (terminated meanwhile), not where it was, or its disk is away: nothing here
    return promised


def _no_space_message(*, needed: int, free: int, promised: int, reserve: int) -> str:
    """What a refusal for space says: every figure that went into it, and the setting behind the reserve."""
    sizes = {
        "needed": filesizeformat(needed),
        "free": filesizeformat(free),
        "promised": filesizeformat(promised),
        "reserve": filesizeformat(reserve),
    }
    # Stored by a file task and read later: kept as message ids (casaos_site.i18n), each part said in the reader's words.
    return deferred(
        "%(space)s%(promised)s%(reserve)s.",
        space=deferred(
            "Not enough free space: %(needed)s needed, %(free)s free", needed=sizes["needed"], free=sizes["free"]
        ),
        promised=deferred(" (%(promised)s of it promised to uploads in progress)", promised=sizes["promised"])
        if promised
        else "",
        reserve=deferred(
            ", and %(reserve)s is kept free on this disk (CASAOS_FILES_FREE_SPACE_RESERVE)", reserve=sizes["reserve"]
        )
        if reserve
        else "",
    )


def same_device(a: Target, b: Target) -> bool:
    return a.lstat().st_dev == b.lstat().st_dev
