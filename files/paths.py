"""The one path resolver: every verb turns a user's path into a Target here (SECURITY.md lessons 5 and 14).

A user's *view* is a set of named bases: an admin sees the whole root under the name "", a member sees
"home" (their home folder) and one base per folder an admin granted them. A view path is relative
("home/photos/a.jpg"); it is split and each part checked. The resolution then walks it on directory descriptors
from the base (files/fs.py): symlinks are followed only while they stay beneath the base, and what comes out is a
list of plain names. The result must be outside our reserved names and protected folders. Verbs act through the
Target: it opens those names again beneath the files root with no symlink allowed anywhere on the way, so a folder
swapped for a link after the check fails the act (ELOOP) instead of leading out. No path string is ever opened.
"""

import errno
import os
import stat
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.utils.translation import gettext as _

from .fs import PATH_DIR, LinkOut, held, make_dirs, open_beneath, resolve_links

# Names we create ourselves (partial uploads, trash) are never reachable or listed through a view.
RESERVED_PREFIX = ".casaos-"
NAME_MAX = 255  # bytes, the limit of ext4/xfs/btrfs


class PathError(Exception):
    """A path the user may not use; `status` is the HTTP answer (400 bad form, 403 outside, 404 missing)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


OS_ERROR_STATUS = {
    "FileNotFoundError": 404,
    "FileExistsError": 409,
    "NotADirectoryError": 400,
    "IsADirectoryError": 400,
    "PermissionError": 403,
}


def from_os_error(exc: OSError, *, name: str = "") -> PathError:
    """A file-system error met while acting on a checked path, as a clear 4xx (507: a full or read-only disk).
    `name`: what the user knows the entry as, when the error is about a file of ours (a partial upload)."""
    if exc.errno == errno.EROFS:
        return PathError(_("This disk is read-only."), 507)
    name = name or (Path(exc.filename).name if exc.filename else "")
    if exc.errno == errno.ELOOP:  # a folder became a link since the path was resolved: the act refused to follow
        return PathError(_("This path changed while in use (something on it became a link); try again."), 409)
    status = 507 if exc.errno == errno.ENOSPC else OS_ERROR_STATUS.get(type(exc).__name__, 409)
    return PathError(f"{exc.strerror or exc}: {name}" if name else str(exc.strerror or exc), status)


@dataclass(frozen=True)
class Base:
    """One named entry point of a user's view: a real folder and whether the user may write in it. `rel`: its
    names beneath the files root, links already followed (how every act reaches it)."""

    name: str
    real: Path
    writable: bool
    rel: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """A resolved path: the base it lies in, the user's parts, and `resolved`, the names beneath the base once
    every link on the way was followed; `followed`: the last one's too (with follow=False it may be a link)."""

    base: Base
    parts: tuple[str, ...]
    resolved: tuple[str, ...]
    followed: bool = True

    @property
    def view_path(self) -> str:
        return "/".join(p for p in (self.base.name, *self.parts) if p)

    @property
    def is_base(self) -> bool:
        return not self.parts

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else self.base.name

    @property
    def real(self) -> Path:
        """Where the entry is on this machine: for display, keys and checks; never opened as a string."""
        return self.base.real.joinpath(*self.resolved)

    @property
    def below_root(self) -> tuple[str, ...]:
        return (*self.base.rel, *self.resolved)

    def open(self, flags: int = os.O_PATH, mode: int = 0o666) -> int:
        """The entry itself, opened beneath the files root with no symlink on the way or at the end (ELOOP)."""
        fd = open_below_root(self.below_root, flags, mode)
        if self.followed and flags & os.O_PATH and stat.S_ISLNK(os.fstat(fd).st_mode):
            # O_PATH opens a link itself; every link was followed when this was resolved, so one here now stands
            # where a file or folder stood: the same refusal as a link on the way.
            os.close(fd)
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), self.name)
        return fd

    @contextmanager
    def fd(self, flags: int = os.O_PATH) -> Iterator[int]:
        with held(self.open(flags)) as fd:
            yield fd

    @contextmanager
    def folder(self) -> Iterator[tuple[int, str]]:
        """(descriptor of the folder holding the entry, the entry's name in it): what every verb acts on."""
        if not self.resolved:
            raise PathError(_("This folder cannot be changed."), 400)
        with held(open_below_root(self.below_root[:-1], PATH_DIR)) as fd:
            yield fd, self.resolved[-1]

    def lstat(self) -> os.stat_result:
        """The entry's own status (a link's, when the target is a link); FileNotFoundError when it is gone."""
        with self.fd() as fd:
            return os.fstat(fd)

    def kind(self) -> int | None:
        """stat.S_IFDIR, S_IFREG, S_IFLNK…: what the entry itself is, or None when there is nothing there."""
        try:
            return stat.S_IFMT(self.lstat().st_mode)
        except FileNotFoundError:
            return None

    def exists(self) -> bool:
        return self.kind() is not None

    def is_dir(self) -> bool:
        return self.kind() == stat.S_IFDIR

    def is_file(self) -> bool:
        return self.kind() == stat.S_IFREG

    def entry(self, name: str) -> "Target":
        """The entry `name` in this folder as it is named there (a link is not followed): what a verb creates."""
        return Target(base=self.base, parts=(*self.parts, name), resolved=(*self.resolved, name), followed=False)

    def renamed(self, name: str) -> "Target":
        """This entry under another name in the same folder (as named there: a link is not followed)."""
        return Target(self.base, (*self.parts[:-1], name), (*self.resolved[:-1], name), followed=False)

    def child(self, name: str) -> "Target":
        """The entry `name` inside this folder (the name is checked, the result resolved again)."""
        return resolve_in(self.base, (*self.parts, check_name(name)))

    def as_base(self, *, writable: bool) -> Base:
        """This folder as a base of its own (a shared folder: the whole world of its link)."""
        return Base(name="", real=self.real, writable=writable, rel=self.below_root)

    def require_writable(self) -> "Target":
        if not self.base.writable:
            raise PathError(_("This folder is read-only for you."), 403)
        return self


# ---------------------------------------------------------------------------- names
def check_name(name: str) -> str:
    """A single file or folder name a user may create: not empty, not . or .., no slash, not too long."""
    if not isinstance(name, str) or name.strip() == "":
        raise PathError(_("A name cannot be empty."))
    if "\x00" in name:
        raise PathError(_("A name cannot contain a NUL character."))
    # A name that decodes (once more) to a traversal would turn dangerous in any tool that decodes again.
    folded = unicodedata.normalize("NFKC", unquote(name))
    # Look-alikes (fullwidth dots, division slash, fullwidth solidus) fold to the dangerous forms: refuse them too.
    if name in (".", "..") or folded in (".", "..") or "/" in name or "/" in folded:
        raise PathError(_("“%(name)s” is not a valid name.") % {"name": name})
    if len(os.fsencode(name)) > NAME_MAX:
        raise PathError(_("A name can be at most %(max)d bytes long.") % {"max": NAME_MAX})
    if name.startswith(RESERVED_PREFIX):
        raise PathError(_("Names starting with %(prefix)s are reserved.") % {"prefix": RESERVED_PREFIX})
    return name


def split_view_path(path: str) -> tuple[str, ...]:
    """The parts of a view path; refuses absolute paths, NUL and every spelling of a parent reference."""
    if path is None:
        return ()
    if not isinstance(path, str):
        raise PathError(_("A path must be text."))
    if "\x00" in path:
        raise PathError(_("A path cannot contain a NUL character."))
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise PathError(_("Paths are relative to your files; remove the leading slash."))
    if len(os.fsencode(path)) > 4096:
        raise PathError(_("This path is too long."))
    parts = tuple(p for p in path.split("/") if p not in ("", "."))
    for part in parts:
        _check_part(part)
    return parts


def _check_part(part: str) -> None:
    folded = unicodedata.normalize("NFKC", part)
    if part == ".." or folded in (".", "..") or "/" in folded:
        raise PathError(_("Paths cannot point to a parent folder."))
    if len(os.fsencode(part)) > NAME_MAX:
        raise PathError(_("A name can be at most %(max)d bytes long.") % {"max": NAME_MAX})
    if part.startswith(RESERVED_PREFIX):
        raise PathError(_("This path leads outside your files."), 403)


# ---------------------------------------------------------------------------- containment
@cache
def _protected() -> tuple[Path, ...]:
    return tuple(Path(os.path.realpath(p)) for p in settings.FILES_PROTECTED)


def files_root() -> Path:
    return Path(os.path.realpath(settings.FILES_ROOT))


def is_protected(real: Path) -> bool:
    """Inside our data dir, our code or a system folder, unless the files root itself lies strictly inside it.

    The default root (<data dir>/files) is inside DATA_DIR: that folder yields to it. A root set *above*
    DATA_DIR (say "/") does not: DATA_DIR stays out of reach.
    """
    root = files_root()
    for guarded in _protected():
        if real.is_relative_to(guarded):
            carved_out = root != guarded and root.is_relative_to(guarded) and real.is_relative_to(root)
            if not carved_out:
                return True
    return False


def contained(real: Path, base: Path) -> bool:
    """`real` lies in `base`, is not one of our reserved entries and is not protected."""
    if not real.is_relative_to(base) or is_protected(real):
        return False
    return not any(part.startswith(RESERVED_PREFIX) for part in real.relative_to(base).parts)


def open_below_root(parts: tuple[str, ...], flags: int = os.O_PATH, mode: int = 0o666) -> int:
    """`parts` opened beneath the files root, no symlink anywhere (files/fs.py open_beneath)."""
    with held(os.open(files_root(), PATH_DIR | os.O_CLOEXEC)) as root:
        return open_beneath(root, parts, flags, mode)


def open_real(real: Path, flags: int = os.O_PATH) -> int:
    """The `real` path of a resolved Target (a worker task's argument) opened again beneath the files root, with no
    link on the way; PathError if it is not a place of the root a user may reach."""
    root = files_root()
    if not real.is_relative_to(root) or not contained(real, root) or ".." in real.parts:
        raise PathError(_("This path leads outside your files."), 403)
    return open_below_root(real.relative_to(root).parts, flags)


def open_ours(real: Path, flags: int = os.O_PATH) -> int:
    """One of our own entries (a partial upload, by the path recorded for it) opened again beneath the files root
    with no link on the way; ValueError when the path is not a plain one beneath the root."""
    return open_below_root(real.relative_to(files_root()).parts, flags)


def resolve_in(base: Base, parts: tuple[str, ...], *, follow: bool = True) -> Target:
    """Walk `parts` from the base on descriptors, following links only while they stay beneath it, and check what
    comes out. With follow=False the last part itself is not followed (rename, delete and move act on a symlink,
    never on what it points to)."""
    try:
        base_fd = open_below_root(base.rel, PATH_DIR)
    except (FileNotFoundError, NotADirectoryError):
        raise PathError(_("This folder is not available."), 404) from None
    except OSError as exc:
        raise _refused(exc) from exc
    try:
        with held(base_fd):
            resolved = resolve_links(base_fd, parts, follow_last=follow, base_real=str(base.real))
    except LinkOut:
        raise PathError(_("This path leads outside your files."), 403) from None
    except OSError as exc:
        raise from_os_error(exc) from exc
    target = Target(base=base, parts=parts, resolved=resolved, followed=follow)
    if not contained(target.real, base.real):
        raise PathError(_("This path leads outside your files."), 403)
    return target


def _refused(exc: OSError) -> PathError:
    """A base that cannot be opened: one that became a link leads outside."""
    if exc.errno == errno.ELOOP:
        return PathError(_("This path leads outside your files."), 403)
    return from_os_error(exc)


# ---------------------------------------------------------------------------- a user's view
HOME = "home"


def _home_parts(user) -> tuple[str, ...]:
    """<FILES_HOME_DIR>/<username>; a username that is not a safe folder name uses the user id."""
    name = user.get_username()
    try:
        check_name(name)
    except PathError:
        name = f"user-{user.pk}"
    return (*split_view_path(settings.FILES_HOME_DIR), name)


def _root_base() -> Base:
    files_root().mkdir(parents=True, exist_ok=True)
    return Base(name="", real=files_root(), writable=True)


def _home_base(user) -> Base:
    """The member's home, made on first use beneath the root (never through a link leading out)."""
    home = resolve_in(_root_base(), _home_parts(user))
    with held(os.open(files_root(), PATH_DIR | os.O_CLOEXEC)) as root:
        try:
            os.close(make_dirs(root, home.resolved))
        except OSError as exc:
            raise _refused(exc) from exc
    return Base(name=HOME, real=home.real, writable=True, rel=home.resolved)


def user_bases(user) -> dict[str, Base]:
    """The named entry points of a user's view (admins: the whole root; members: home + granted folders)."""
    if user.is_admin:
        return {"": _root_base()}
    from .models import FolderGrant

    bases = {HOME: _home_base(user)}
    for grant in FolderGrant.objects.filter(user=user):
        try:
            folder = resolve_in(_root_base(), split_view_path(grant.path))
        except PathError:
            continue  # a granted folder that now leads outside (or is gone) is left out of the view
        writable = grant.access == FolderGrant.Access.WRITE
        bases[grant.name] = Base(name=grant.name, real=folder.real, writable=writable, rel=folder.resolved)
    return bases


def resolve(user, path: str, *, follow: bool = True) -> Target:
    """THE entry point: a user's view path to a checked Target (PathError otherwise)."""
    parts = split_view_path(path or "")
    bases = user_bases(user)
    if "" in bases:
        return resolve_in(bases[""], parts, follow=follow)
    if not parts:
        raise PathError(_("Choose a folder first."), 400)
    base = bases.get(parts[0])
    if base is None:
        raise PathError(_("No such folder."), 404)
    return resolve_in(base, parts[1:], follow=follow)


def is_view_root(user, path: str) -> bool:
    """A member's top level lists their bases rather than a real folder."""
    return not user.is_admin and not split_view_path(path or "")
