"""Quick file operations done in the request: new folder, new file, rename, save text, permissions."""

# fd-level work (os.open flags O_EXCL/O_NOFOLLOW, renameat2, copy_file_range) reads clearer with os.*:
# ruff: noqa: PTH101, PTH105, PTH123

import grp
import hashlib
import os
import pwd
import secrets
import stat
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.services import audit_record

from ..paths import RESERVED_PREFIX, PathError, Target, check_name, resolve
from .common import changed, rename_noreplace


def _parent(target: Target) -> str:
    return target.view_path.rpartition("/")[0]


def folder_create(*, user, path: str, name: str) -> Target:
    """Create a folder `name` inside the folder at `path` (409 if the name is taken)."""
    parent = resolve(user, path).require_writable()
    target = parent.child(check_name(name))
    try:
        target.real.mkdir()
    except FileExistsError:
        raise PathError(_("“%(name)s” already exists.") % {"name": name}, 409) from None
    except NotADirectoryError:
        raise PathError(_("This is not a folder."), 400) from None
    changed(user=user, folder=parent.view_path)
    return target


def file_create(*, user, path: str, name: str) -> Target:
    """Create an empty file `name` inside the folder at `path` (409 if the name is taken)."""
    parent = resolve(user, path).require_writable()
    target = parent.child(check_name(name))
    if not parent.real.is_dir():
        raise PathError(_("This is not a folder."), 400)
    try:
        fd = os.open(target.real, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        raise PathError(_("“%(name)s” already exists.") % {"name": name}, 409) from None
    os.close(fd)
    changed(user=user, folder=parent.view_path)
    return target


def entry_rename(*, user, path: str, name: str) -> Target:
    """Rename a file or folder in place; never replaces an existing entry (two racing renames: one wins)."""
    source = resolve(user, path, follow=False).require_writable()
    if source.is_base:
        raise PathError(_("This folder cannot be renamed."), 400)
    check_name(name)
    destination = source.real.with_name(name)
    if destination == source.real:
        return source
    try:
        rename_noreplace(source.real, destination)
    except FileExistsError:
        raise PathError(_("“%(name)s” already exists.") % {"name": name}, 409) from None
    except FileNotFoundError:
        raise PathError(_("This file no longer exists."), 404) from None
    changed(user=user, folder=_parent(source))
    return resolve(user, "/".join(filter(None, (_parent(source), name))), follow=False)


# ---------------------------------------------------------------------------- text editor
def etag_of(real: Path) -> str:
    """A validator that changes whenever the file's content may have changed (size, mtime, inode)."""
    st = real.stat()
    return hashlib.sha256(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:32]


def text_read(*, user, path: str) -> tuple[str, str]:
    """The text of a file for the editor and its ETag (400 if too large or not text)."""
    target = resolve(user, path)
    if not target.real.is_file():
        raise PathError(_("This is not a file."), 400)
    if target.real.stat().st_size > settings.FILES_EDIT_MAX_SIZE:
        raise PathError(_("This file is too large for the editor."), 413)
    etag = etag_of(target.real)
    try:
        return target.real.read_bytes().decode("utf-8"), etag
    except UnicodeDecodeError:
        raise PathError(_("This file is not UTF-8 text."), 415) from None


def text_save(*, user, path: str, content: str, etag: str | None) -> str:
    """Save text atomically; refuse (412) when the file changed since `etag` was read. Returns the new ETag."""
    target = resolve(user, path).require_writable()
    data = content.encode("utf-8")
    if len(data) > settings.FILES_EDIT_MAX_SIZE:
        raise PathError(_("This text is too large for the editor."), 413)
    exists = target.real.exists()
    if exists and not target.real.is_file():
        raise PathError(_("This is not a file."), 400)
    if exists and etag != etag_of(target.real):
        raise PathError(_("The file changed since you opened it. Reload it before saving."), 412)
    if not exists and etag:
        raise PathError(_("The file was removed since you opened it."), 412)
    temp = target.real.with_name(f"{RESERVED_PREFIX}edit-{secrets.token_hex(8)}")
    mode = stat.S_IMODE(target.real.stat().st_mode) if exists else 0o644
    with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, target.real)  # readers see the old or the new text, never half of it
    changed(user=user, folder=_parent(target))
    return etag_of(target.real)


# ---------------------------------------------------------------------------- permissions (admins)
def _ids(owner: str | None, group: str | None) -> tuple[int, int]:
    try:
        uid = pwd.getpwnam(owner).pw_uid if owner and not owner.isdigit() else int(owner) if owner else -1
        gid = grp.getgrnam(group).gr_gid if group and not group.isdigit() else int(group) if group else -1
    except KeyError:
        raise PathError(_("Unknown owner or group."), 400) from None
    return uid, gid


def permissions_change(
    *,
    user,
    path: str,
    mode: str | None = None,
    owner: str | None = None,
    group: str | None = None,
    recursive: bool = False,
    request=None,
) -> Target:
    """Change mode (octal text like "755"), owner and group; admins only; symlinks are never followed."""
    if not user.is_admin:
        raise PathError(_("Only administrators can change permissions."), 403)
    target = resolve(user, path, follow=False)
    if mode is not None and (not mode or len(mode) > 4 or any(c not in "01234567" for c in mode)):
        raise PathError(_("A mode is three or four octal digits, like 755."), 400)
    uid, gid = _ids(owner, group)
    paths = [target.real]
    if recursive and target.real.is_dir() and not target.real.is_symlink():
        for dirpath, dirnames, filenames in os.walk(target.real):
            dirnames[:] = [d for d in dirnames if not d.startswith(RESERVED_PREFIX)]
            paths.extend(Path(dirpath, n) for n in (*dirnames, *filenames))
    for p in paths:
        if p.is_symlink():
            continue
        if mode is not None:
            os.chmod(p, int(mode, 8))
        if uid != -1 or gid != -1:
            os.chown(p, uid, gid)
    audit_record(
        actor=user,
        action="files.permissions",
        request=request,
        target=target.view_path,
        details={"mode": mode, "owner": owner, "group": group, "recursive": recursive},
    )
    return target
