"""Small helpers every file service shares: atomic no-replace rename, free names, entry sizes, events."""

# fd-level work (os.open flags O_EXCL/O_NOFOLLOW, renameat2, copy_file_range) reads clearer with os.*:
# ruff: noqa: PTH104, PTH108, PTH118

import ctypes
import errno
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from casaos_site.events import publish_on_commit

from ..models import Upload
from ..paths import RESERVED_PREFIX, PathError

_libc = ctypes.CDLL(None, use_errno=True)
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


def user_group(user_id: int) -> str:
    """The Channels group of one user's file events (task progress, folder changes)."""
    return f"files.user.{user_id}"


def changed(*, user, folder: str) -> None:
    """Tell the user's open pages that a folder's content changed (after commit)."""
    publish_on_commit(user_group(user.pk), "files.changed", {"folder": folder})


def rename_noreplace(src: Path, dst: Path) -> None:
    """Atomic rename that fails if `dst` exists (renameat2 RENAME_NOREPLACE): two racing renames cannot both win."""
    if getattr(_libc, "renameat2", None) is not None:
        res = _libc.renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
        if res == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS):  # EINVAL: this file system lacks the flag
            raise OSError(err, os.strerror(err), str(src))
    # Fallback for file systems without RENAME_NOREPLACE: hard link is atomic and refuses to replace.
    if src.is_dir() or src.is_symlink():
        if dst.exists() or dst.is_symlink():
            raise FileExistsError(errno.EEXIST, "exists", str(dst))
        os.rename(src, dst)
        return
    os.link(src, dst)
    os.unlink(src)


def free_name(folder: Path, name: str) -> str:
    """`name`, or "name (1).ext", "name (2).ext"… the first that does not exist in `folder` (keep-both policy)."""
    if not _exists(folder / name):
        return name
    stem, dot, ext = name.partition(".") if not name.startswith(".") else (name, "", "")
    for n in range(1, 10_000):
        candidate = f"{stem} ({n}){dot}{ext}"
        if not _exists(folder / candidate):
            return candidate
    raise PathError(_("Too many files with this name."), 409)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def tree_size(path: Path) -> tuple[int, int]:
    """(bytes, files) of a file or a folder tree; symlinks count as themselves, never followed."""
    st = path.lstat()
    if not path.is_dir() or path.is_symlink():
        return st.st_size, 1
    total, count = 0, 0
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if not d.startswith(RESERVED_PREFIX)]
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
                count += 1
            except OSError:
                continue
    return total, count


def check_free_space(folder: Path, needed: int, *, upload: Upload | None = None) -> None:
    """Refuse (507) what would not fit on the target disk beside the bytes open uploads there may still write and
    the configured reserve. `upload`: the upload being checked, already recorded (its promise is `needed`)."""
    free = shutil.disk_usage(folder).free
    promised = _promised_to_uploads(folder.stat().st_dev, exclude=upload)
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
            if os.lstat(partial).st_dev == device:
                promised += max(length - offset, 0)
        except OSError:
            continue  # no partial file (terminated meanwhile): it promises nothing
    return promised


def _no_space_message(*, needed: int, free: int, promised: int, reserve: int) -> str:
    """What a refusal for space says: every figure that went into it, and the setting behind the reserve."""
    sizes = {
        "needed": filesizeformat(needed),
        "free": filesizeformat(free),
        "promised": filesizeformat(promised),
        "reserve": filesizeformat(reserve),
    }
    message = _("Not enough free space: %(needed)s needed, %(free)s free") % sizes
    if promised:
        message += _(" (%(promised)s of it promised to uploads in progress)") % sizes
    if reserve:
        message += _(", and %(reserve)s is kept free on this disk (CASAOS_FILES_FREE_SPACE_RESERVE)") % sizes
    return message + "."


def remove_entry(path: Path) -> None:
    """Delete a file, symlink or folder tree for good (the symlink itself, never its target)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def same_device(a: Path, b: Path) -> bool:
    return a.lstat().st_dev == b.stat().st_dev
