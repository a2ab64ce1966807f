"""Quick file operations done in the request: new folder, new file, rename, save text, permissions. Each acts with
the *at calls on the descriptor of the folder it resolved (files/fs.py), never on a path string."""

# fd-level work (os.open flags O_EXCL/O_NOFOLLOW, renameat2, *at calls) reads clearer with os.*:
# ruff: noqa: PTH101, PTH123

import contextlib
import grp
import hashlib
import os
import pwd
import secrets
import stat
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.services import audit_record

from .. import fs
from ..ownership import hand_over, hand_over_at
from ..paths import RESERVED_PREFIX, PathError, Target, check_name, resolve
from .common import changed, reserved


def _parent(target: Target) -> str:
    return target.view_path.rpartition("/")[0]


class Made(NamedTuple):
    """What a quick operation acted on, and its status read on the descriptor it acted in: a look through the path
    afterwards could meet a folder swapped for a link meanwhile, and call a done act a failure."""

    target: Target
    st: os.stat_result


def _create(parent: Target, name: str, make) -> Made:
    """Make the entry `name` in the folder `parent` with `make(folder descriptor, name)`; 409 if the name is taken."""
    check_name(name)
    try:
        with parent.fd(fs.PATH_DIR) as fd:
            make(fd, name)
            hand_over_at(fd, name)
            st = fs.lstat_at(fd, name)
    except FileExistsError:
        raise PathError(_("“%(name)s” already exists.") % {"name": name}, 409) from None
    except NotADirectoryError:
        raise PathError(_("This is not a folder."), 400) from None
    return Made(parent.entry(name), st)


def folder_create(*, user, path: str, name: str) -> Made:
    """Create a folder `name` inside the folder at `path` (409 if the name is taken)."""
    parent = resolve(user, path).require_writable()
    made = _create(parent, name, lambda fd, n: os.mkdir(n, dir_fd=fd))
    changed(user=user, folder=parent.view_path)
    return made


def file_create(*, user, path: str, name: str) -> Made:
    """Create an empty file `name` inside the folder at `path` (409 if the name is taken)."""
    parent = resolve(user, path).require_writable()
    made = _create(parent, name, lambda fd, n: os.close(os.open(n, fs.CREATE | os.O_NOFOLLOW, 0o644, dir_fd=fd)))
    changed(user=user, folder=parent.view_path)
    return made


def entry_rename(*, user, path: str, name: str) -> Made:
    """Rename a file or folder in place; never replaces an existing entry (two racing renames: one wins)."""
    source = resolve(user, path, follow=False).require_writable()
    if source.is_base:
        raise PathError(_("This folder cannot be renamed."), 400)
    check_name(name)
    try:
        with source.folder() as (fd, old):
            if name != old:
                fs.rename_noreplace(fd, old, fd, name)
            st = fs.lstat_at(fd, name)
    except FileExistsError:
        raise PathError(_("“%(name)s” already exists.") % {"name": name}, 409) from None
    except FileNotFoundError:
        raise PathError(_("This file no longer exists."), 404) from None
    if name != source.resolved[-1]:
        changed(user=user, folder=_parent(source))
    return Made(source.renamed(name), st)


# ---------------------------------------------------------------------------- text editor
def etag_from(st: os.stat_result) -> str:
    """A validator that changes whenever the file's content may have changed (size, mtime, inode)."""
    return hashlib.sha256(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:32]


def etag_of(real: Path) -> str:
    """The validator of a file outside any user's reach (tests, our own files); users' files go by etag_from."""
    return etag_from(real.stat())


def text_read(*, user, path: str) -> tuple[str, str]:
    """The text of a file for the editor and its ETag (400 if too large or not text)."""
    target = resolve(user, path)
    with target.fd(fs.READ) as fd:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise PathError(_("This is not a file."), 400)
        if st.st_size > settings.FILES_EDIT_MAX_SIZE:
            raise PathError(_("This file is too large for the editor."), 413)
        data = os.read(fd, settings.FILES_EDIT_MAX_SIZE + 1)
    try:
        return data.decode("utf-8"), etag_from(st)
    except UnicodeDecodeError:
        raise PathError(_("This file is not UTF-8 text."), 415) from None


def text_save(*, user, path: str, content: str, etag: str | None) -> str:
    """Save text atomically; refuse (412) when the file changed since `etag` was read. Returns the new ETag."""
    target = resolve(user, path).require_writable()
    data = content.encode("utf-8")
    if len(data) > settings.FILES_EDIT_MAX_SIZE:
        raise PathError(_("This text is too large for the editor."), 413)
    with target.folder() as (fd, name):
        st = _current(fd, name, etag)
        temp = f"{RESERVED_PREFIX}edit-{secrets.token_hex(8)}"
        mode = stat.S_IMODE(st.st_mode) if st else 0o644
        try:
            with open(os.open(temp, fs.CREATE | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=fd), "wb") as fh:
                fh.write(data)
                hand_over(fh.fileno())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, name, src_dir_fd=fd, dst_dir_fd=fd)  # readers see the old or the new text, never half
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp, dir_fd=fd)
            raise
        new = etag_from(fs.lstat_at(fd, name))
    changed(user=user, folder=_parent(target))
    return new


def _current(fd: int, name: str, etag: str | None) -> os.stat_result | None:
    """The file being saved over (None: a new one), if it is still the version the editor read (412 otherwise)."""
    try:
        st = fs.lstat_at(fd, name)
    except FileNotFoundError:
        if etag:
            raise PathError(_("The file was removed since you opened it."), 412) from None
        return None
    if not stat.S_ISREG(st.st_mode):
        raise PathError(_("This is not a file."), 400)
    if etag != etag_from(st):
        raise PathError(_("The file changed since you opened it. Reload it before saving."), 412)
    return st


# ---------------------------------------------------------------------------- permissions (admins)
def _ids(owner: str | None, group: str | None) -> tuple[int, int]:
    try:
        uid = pwd.getpwnam(owner).pw_uid if owner and not owner.isdigit() else int(owner) if owner else -1
        gid = grp.getgrnam(group).gr_gid if group and not group.isdigit() else int(group) if group else -1
    except KeyError:
        raise PathError(_("Unknown owner or group."), 400) from None
    return uid, gid


def _changer(mode: int | None, uid: int, gid: int):
    """Change one entry given as an O_PATH descriptor (never through a link: links are left as they are)."""

    def change(fd: int) -> None:
        if stat.S_ISLNK(os.fstat(fd).st_mode):
            return
        # The descriptor's /proc name reaches the very entry it holds (glibc's own way for fchmodat without a
        # follow): a folder swapped for a link after the walk is not what gets changed.
        own = f"/proc/self/fd/{fd}"
        if mode is not None:
            os.chmod(own, mode)
        if uid != -1 or gid != -1:
            os.chown(own, uid, gid)

    return change


def permissions_change(
    *,
    user,
    path: str,
    mode: str | None = None,
    owner: str | None = None,
    group: str | None = None,
    recursive: bool = False,
    request=None,
) -> Made:
    """Change mode (octal text like "755"), owner and group; admins only; symlinks are never followed."""
    if not user.is_admin:
        raise PathError(_("Only administrators can change permissions."), 403)
    target = resolve(user, path, follow=False)
    if mode is not None and (not mode or len(mode) > 4 or any(c not in "01234567" for c in mode)):
        raise PathError(_("A mode is three or four octal digits, like 755."), 400)
    uid, gid = _ids(owner, group)
    change = _changer(None if mode is None else int(mode, 8), uid, gid)
    with target.fd() as fd:
        change(fd)
        if recursive and stat.S_ISDIR(os.fstat(fd).st_mode):
            for parts, _st, folder in fs.tree(fd, skip=reserved):
                with fs.held(fs.open_beneath(folder, parts[-1:])) as entry:
                    change(entry)
        st = os.fstat(fd)
    audit_record(
        actor=user,
        action="files.permissions",
        request=request,
        target=target.view_path,
        details={"mode": mode, "owner": owner, "group": group, "recursive": recursive},
    )
    return Made(target, st)
