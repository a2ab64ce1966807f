"""The one path resolver: every verb turns a user's path into a Target here (SECURITY.md lessons 5 and 14).

A user's *view* is a set of named bases: an admin sees the whole root under the name "" and each disk or pool we
mounted as "@<name>", a member sees "home" (their home folder) and one base per folder an admin granted them (of
the root or of a disk). Each base lies on a Root (files/roots.py): the files root, or a disk's mount point, checked
to be mounted on every open. A view path is relative
("home/photos/a.jpg"); it is split and each part checked. The resolution then walks it on directory descriptors
from the base (files/fs.py): symlinks are followed only while they stay beneath the base, and what comes out is a
list of plain names. The result must be outside our reserved names and protected folders. Verbs act through the
Target: it opens those names again beneath its base's root with no symlink allowed anywhere on the way, so a folder
swapped for a link after the check fails the act (ELOOP) instead of leading out. No path string is ever opened.
"""

import errno
import os
import stat
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.utils.translation import gettext_noop

from casaos_site.i18n import deferred, shown

from .fs import PATH_DIR, LinkOut, held, make_dirs, open_beneath, resolve_links
from .ownership import hand_over
from .roots import (
    DISK_PREFIX,
    Root,
    Unavailable,
    disk_paths_inside,
    disk_roots,
    files_root_root,
    gone_root,
    media_overlaps,
    root_of,
)

# Names we create ourselves (partial uploads, trash) are never reachable or listed through a view.
RESERVED_PREFIX = ".casaos-"
NAME_MAX = 255  # bytes, the limit of ext4/xfs/btrfs


class PathError(Exception):
    """A path the user may not use; `status` is the HTTP answer (400 bad form, 403 outside, 404 missing)."""

    def __init__(self, message: str, status: int = 400):
        self.stored = message  # a deferred() id and parameters: what a file task records, shown in its reader's words
        self.message = shown(message)  # in the language active now (a request's)
        super().__init__(self.message)
        self.status = status


OS_ERROR_STATUS = {
    "FileNotFoundError": 404,
    "FileExistsError": 409,
    "NotADirectoryError": 400,
    "IsADirectoryError": 400,
    "PermissionError": 403,
}


# The system's errors in our words (the kernel's own text, strerror, is English whatever the reader's language).
OS_ERROR_WORDS = {
    errno.ENOENT: gettext_noop("No such file or folder: %(name)s"),
    errno.EEXIST: gettext_noop("“%(name)s” already exists."),
    errno.EACCES: gettext_noop("Permission denied: %(name)s"),
    errno.EPERM: gettext_noop("Not permitted: %(name)s"),
    errno.ENOTDIR: gettext_noop("Not a folder: %(name)s"),
    errno.EISDIR: gettext_noop("“%(name)s” is a folder."),
    errno.ENOTEMPTY: gettext_noop("The folder “%(name)s” is not empty."),
    errno.EBUSY: gettext_noop("“%(name)s” is in use."),
    errno.ENAMETOOLONG: gettext_noop("The name is too long: %(name)s"),
    errno.EIO: gettext_noop("The disk could not be read or written: %(name)s"),
}


def from_os_error(exc: OSError, *, name: str = "") -> PathError:
    """A file-system error met while acting on a checked path, as a clear 4xx (507: a full or read-only disk).
    `name`: what the user knows the entry as, when the error is about a file of ours (a partial upload)."""
    if exc.errno == errno.EROFS:
        return PathError(deferred("This disk is read-only."), 507)
    if exc.errno == errno.ENOSPC:
        return PathError(deferred("No space left on this disk."), 507)
    name = name or (Path(exc.filename).name if exc.filename else "")
    if exc.errno == errno.ELOOP:  # a folder became a link since the path was resolved: the act refused to follow
        return PathError(deferred("This path changed while in use (something on it became a link); try again."), 409)
    return PathError(_os_words(exc, name), OS_ERROR_STATUS.get(type(exc).__name__, 409))


def _os_words(exc: OSError, name: str) -> str:
    """The error as a message id with its parameters; an errno we have no words for keeps the system's text."""
    if exc.errno in OS_ERROR_WORDS:
        return deferred(OS_ERROR_WORDS[exc.errno], name=name or "?")
    text = str(exc.strerror or exc)
    return deferred("%(error)s: %(name)s", error=text, name=name) if name else text


@dataclass(frozen=True)
class Base:
    """One named entry point of a user's view: a real folder and whether the user may write in it. `rel`: its
    names beneath its `root` (the files root or a disk), links already followed (how every act reaches it)."""

    name: str
    real: Path
    writable: bool
    rel: tuple[str, ...] = ()
    root: Root = field(default_factory=files_root_root)


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
        """The entry itself, opened beneath its root with no symlink on the way or at the end (ELOOP)."""
        fd = open_below(self.base.root, self.below_root, flags, mode)
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
            raise PathError(deferred("This folder cannot be changed."), 400)
        with held(open_below(self.base.root, self.below_root[:-1], PATH_DIR)) as fd:
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
        return Base(name="", real=self.real, writable=writable, rel=self.below_root, root=self.base.root)

    def require_writable(self) -> "Target":
        if not self.base.writable:
            raise PathError(deferred("This folder is read-only for you."), 403)
        return self


# ---------------------------------------------------------------------------- names
def check_name(name: str) -> str:
    """A single file or folder name a user may create: not empty, not . or .., no slash, not too long."""
    if not isinstance(name, str) or name.strip() == "":
        raise PathError(deferred("A name cannot be empty."))
    if "\x00" in name:
        raise PathError(deferred("A name cannot contain a NUL character."))
    # A name that decodes (once more) to a traversal would turn dangerous in any tool that decodes again.
    folded = unicodedata.normalize("NFKC", unquote(name))
    # Look-alikes (fullwidth dots, division slash, fullwidth solidus) fold to the dangerous forms: refuse them too.
    if name in (".", "..") or folded in (".", "..") or "/" in name or "/" in folded:
        raise PathError(deferred("“%(name)s” is not a valid name.", name=name))
    if len(os.fsencode(name)) > NAME_MAX:
        raise PathError(deferred("A name can be at most %(max)d bytes long.", max=NAME_MAX))
    if name.startswith(RESERVED_PREFIX):
        raise PathError(deferred("Names starting with %(prefix)s are reserved.", prefix=RESERVED_PREFIX))
    return name


def split_view_path(path: str) -> tuple[str, ...]:
    """The parts of a view path; refuses absolute paths, NUL and every spelling of a parent reference."""
    if path is None:
        return ()
    if not isinstance(path, str):
        raise PathError(deferred("A path must be text."))
    if "\x00" in path:
        raise PathError(deferred("A path cannot contain a NUL character."))
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise PathError(deferred("Paths are relative to your files; remove the leading slash."))
    if len(os.fsencode(path)) > 4096:
        raise PathError(deferred("This path is too long."))
    parts = tuple(p for p in path.split("/") if p not in ("", "."))
    for part in parts:
        _check_part(part)
    return parts


def _check_part(part: str) -> None:
    folded = unicodedata.normalize("NFKC", part)
    if part == ".." or folded in (".", "..") or "/" in folded:
        raise PathError(deferred("Paths cannot point to a parent folder."))
    if len(os.fsencode(part)) > NAME_MAX:
        raise PathError(deferred("A name can be at most %(max)d bytes long.", max=NAME_MAX))
    if part.startswith(RESERVED_PREFIX):
        raise PathError(deferred("This path leads outside your files."), 403)


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


def open_below(root: Root, parts: tuple[str, ...], flags: int = os.O_PATH, mode: int = 0o666) -> int:
    """`parts` opened beneath `root`, no symlink anywhere (files/fs.py open_beneath); a disk root must be mounted
    where our table says (409 otherwise: never its empty folder on the system disk)."""
    try:
        root_fd = root.open()
    except Unavailable as exc:
        raise PathError(str(exc), 409) from None
    with held(root_fd):
        return open_beneath(root_fd, parts, flags, mode)


def open_below_root(parts: tuple[str, ...], flags: int = os.O_PATH, mode: int = 0o666) -> int:
    """`parts` opened beneath the files root, no symlink anywhere."""
    return open_below(files_root_root(), parts, flags, mode)


def all_roots() -> list[Root]:
    """The files root and every disk of our table (mounted or not: a path on an unmounted one is refused)."""
    return [files_root_root(), *disk_roots().values()]


def _roots_for(real: Path) -> list[Root]:
    """The roots that may hold `real`: the files root alone when no disk can be mounted beneath it (no query)."""
    root = files_root_root()
    if real.is_relative_to(root.path) and not media_overlaps(root.path):
        return [root]
    return all_roots()


def open_real(real: Path, flags: int = os.O_PATH) -> int:
    """The `real` path of a resolved Target (a worker task's argument) opened again beneath its root, with no
    link on the way; PathError if it is not a place of a root a user may reach."""
    try:
        root = root_of(real, _roots_for(real))
    except ValueError:
        raise PathError(deferred("This path leads outside your files."), 403) from None
    if not contained(real, root.path) or ".." in real.parts:
        raise PathError(deferred("This path leads outside your files."), 403)
    return open_below(root, real.relative_to(root.path).parts, flags)


def open_ours(real: Path, flags: int = os.O_PATH) -> int:
    """One of our own entries (a partial upload, by the path recorded for it) opened again beneath its root with
    no link on the way; ValueError when the path is not a plain one beneath a root."""
    root = root_of(real, _roots_for(real))
    return open_below(root, real.relative_to(root.path).parts, flags)


def resolve_in(base: Base, parts: tuple[str, ...], *, follow: bool = True) -> Target:
    """Walk `parts` from the base on descriptors, following links only while they stay beneath it, and check what
    comes out. With follow=False the last part itself is not followed (rename, delete and move act on a symlink,
    never on what it points to)."""
    try:
        base_fd = open_below(base.root, base.rel, PATH_DIR)
    except (FileNotFoundError, NotADirectoryError):
        raise PathError(deferred("This folder is not available."), 404) from None
    except OSError as exc:
        raise _refused(exc) from exc
    try:
        with held(base_fd):
            resolved = resolve_links(base_fd, parts, follow_last=follow, base_real=str(base.real))
    except LinkOut:
        raise PathError(deferred("This path leads outside your files."), 403) from None
    except OSError as exc:
        raise from_os_error(exc) from exc
    target = Target(base=base, parts=parts, resolved=resolved, followed=follow)
    if not contained(target.real, base.real):
        raise PathError(deferred("This path leads outside your files."), 403)
    if not base.root.is_disk:
        _not_a_disk_folder(target)
    return target


def _not_a_disk_folder(target: Target) -> None:
    """A disk's mount point inside the files root is reached as its disk only: through the root, an unmounted
    one's empty folder would take writes onto the system disk."""
    for disk in disk_paths_inside(target.base.root.path):
        if target.real.is_relative_to(disk.path):
            message = deferred(
                "“%(name)s” is where the disk “%(disk)s” is mounted: open it as %(base)s.",
                name=target.name,
                disk=disk.name,
                base=DISK_PREFIX + disk.name,
            )
            raise PathError(message, 409)


def _refused(exc: OSError) -> PathError:
    """A base that cannot be opened: one that became a link leads outside."""
    if exc.errno == errno.ELOOP:
        return PathError(deferred("This path leads outside your files."), 403)
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
            os.close(make_dirs(root, home.resolved, made=hand_over))
        except OSError as exc:
            raise _refused(exc) from exc
    return Base(name=HOME, real=home.real, writable=True, rel=home.resolved)


def disk_base(root: Root) -> Base:
    """A whole disk or pool as an admin's base, "@<name>"."""
    return Base(name=DISK_PREFIX + root.name, real=root.path, writable=True, root=root)


def user_bases(user) -> dict[str, Base]:
    """The named entry points of a user's view (admins: the whole root and every disk of our table; members:
    home + granted folders). A disk that is not mounted stays a base whose every open says why."""
    if user.is_admin:
        disks = {DISK_PREFIX + root.name: disk_base(root) for root in disk_roots().values()}
        return {"": _root_base(), **dict(sorted(disks.items()))}
    from .models import FolderGrant

    bases = {HOME: _home_base(user)}
    grants = list(FolderGrant.objects.filter(user=user))
    disks = disk_roots() if any(grant.disk for grant in grants) else {}
    for grant in grants:
        base = _grant_base(grant, disks)
        if base is not None:
            bases[grant.name] = base
    return bases


def _grant_base(grant, disks: dict[str, Root]) -> Base | None:
    """The granted folder as a base; None when it now leads outside or is gone. A folder of a disk that is not
    mounted is a base whose every open says so (a stale path gets that message, never the empty mount point)."""
    writable = grant.access == grant.Access.WRITE
    root = disks.get(grant.disk) or gone_root(grant.disk, grant.disk_name) if grant.disk else None
    top = disk_base(root) if root else _root_base()
    try:
        folder = resolve_in(top, split_view_path(grant.path))
    except PathError as exc:
        if root is None or exc.status != 409:
            return None  # a granted folder that now leads outside (or is gone) is left out of the view
        return Base(name=grant.name, real=root.path, writable=writable, root=replace(root, problem=exc.message))
    return Base(name=grant.name, real=folder.real, writable=writable, rel=folder.resolved, root=top.root)


def base_available(base: Base) -> bool:
    """Whether the base can be opened now (a disk that is not mounted is left out of listings)."""
    try:
        with held(open_below(base.root, base.rel, PATH_DIR)):
            return True
    except (PathError, OSError):
        return False


def resolve(user, path: str, *, follow: bool = True) -> Target:
    """THE entry point: a user's view path to a checked Target (PathError otherwise)."""
    return _resolve_among(user_bases(user), path, follow=follow)


def resolve_many(user, paths: list[str], *, follow: bool = True) -> list[Target]:
    """resolve() for each path, the user's bases read once (a bulk copy may name thousands)."""
    bases = user_bases(user)
    return [_resolve_among(bases, path, follow=follow) for path in paths]


def _resolve_among(bases: dict[str, Base], path: str, *, follow: bool) -> Target:
    parts = split_view_path(path or "")
    if "" in bases and not (parts and parts[0] in bases):
        return _resolve_in_root(bases[""], parts, follow=follow)
    if not parts:
        raise PathError(deferred("Choose a folder first."), 400)
    base = bases.get(parts[0])
    if base is None:
        raise PathError(deferred("No such folder."), 404)
    return resolve_in(base, parts[1:], follow=follow)


def _resolve_in_root(root: Base, parts: tuple[str, ...], *, follow: bool) -> Target:
    """An admin's path in the files root; "@name" that is neither a disk nor a folder there is a disk gone."""
    if parts and parts[0].startswith(DISK_PREFIX) and not resolve_in(root, ()).entry(parts[0]).exists():
        raise PathError(deferred("No disk called “%(name)s” is mounted.", name=parts[0][len(DISK_PREFIX) :]), 404)
    return resolve_in(root, parts, follow=follow)


def is_view_root(user, path: str) -> bool:
    """A member's top level lists their bases rather than a real folder."""
    return not user.is_admin and not split_view_path(path or "")
