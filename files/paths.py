"""The one path resolver: every verb turns a user's path into a real path here (SECURITY.md lesson 5).

A user's *view* is a set of named bases: an admin sees the whole root under the name "", a member sees
"home" (their home folder) and one base per folder an admin granted them. A view path is relative
("home/photos/a.jpg"); it is split, each part checked, joined to its base, resolved with every symlink
followed, and the result must stay inside the base (`Path.is_relative_to`, never `startswith`) and
outside our own protected folders (DATA_DIR, the code, system folders).
"""

import errno
import os
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.utils.translation import gettext as _

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
    status = 507 if exc.errno == errno.ENOSPC else OS_ERROR_STATUS.get(type(exc).__name__, 409)
    name = name or (Path(exc.filename).name if exc.filename else "")
    return PathError(f"{exc.strerror or exc}: {name}" if name else str(exc.strerror or exc), status)


@dataclass(frozen=True)
class Base:
    """One named entry point of a user's view: a real folder and whether the user may write in it."""

    name: str
    real: Path
    writable: bool


@dataclass(frozen=True)
class Target:
    """A resolved path: the real path to act on, the base it lies in, and the user's view path for it."""

    base: Base
    real: Path
    parts: tuple[str, ...]

    @property
    def view_path(self) -> str:
        return "/".join(p for p in (self.base.name, *self.parts) if p)

    @property
    def is_base(self) -> bool:
        return not self.parts

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else self.base.name

    def child(self, name: str) -> "Target":
        """The entry `name` inside this folder (the name is checked, the result resolved again)."""
        return resolve_in(self.base, (*self.parts, check_name(name)))

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


def resolve_in(base: Base, parts: tuple[str, ...], *, follow: bool = True) -> Target:
    """Join, resolve every symlink and check containment. With follow=False the last part itself is not
    followed (rename, delete and move act on a symlink, never on what it points to)."""
    if not base.real.is_dir():
        raise PathError(_("This folder is not available."), 404)
    if follow or not parts:
        real = Path(os.path.realpath(base.real.joinpath(*parts)))
    else:
        parent = Path(os.path.realpath(base.real.joinpath(*parts[:-1])))
        real = parent / parts[-1]
        if not contained(parent, base.real):
            raise PathError(_("This path leads outside your files."), 403)
    if not contained(real, base.real):
        raise PathError(_("This path leads outside your files."), 403)
    return Target(base=base, real=real, parts=parts)


def link_escapes(entry: Path, base: Path) -> bool:
    """A symlink in a listing whose target lies outside the base: shown, never followed."""
    return not contained(Path(os.path.realpath(entry)), base)


# ---------------------------------------------------------------------------- a user's view
HOME = "home"


def home_folder(user) -> Path:
    """<root>/<FILES_HOME_DIR>/<username>; a username that is not a safe folder name uses the user id."""
    name = user.get_username()
    try:
        check_name(name)
    except PathError:
        name = f"user-{user.pk}"
    return files_root() / settings.FILES_HOME_DIR / name


def user_bases(user) -> dict[str, Base]:
    """The named entry points of a user's view (admins: the whole root; members: home + granted folders)."""
    if user.is_admin:
        files_root().mkdir(parents=True, exist_ok=True)
        return {"": Base(name="", real=files_root(), writable=True)}
    from .models import FolderGrant

    home = home_folder(user)
    home.mkdir(parents=True, exist_ok=True)
    bases = {HOME: Base(name=HOME, real=Path(os.path.realpath(home)), writable=True)}
    for grant in FolderGrant.objects.filter(user=user):
        real = Path(os.path.realpath(files_root().joinpath(*split_view_path(grant.path))))
        if contained(real, files_root()):
            bases[grant.name] = Base(name=grant.name, real=real, writable=grant.access == FolderGrant.Access.WRITE)
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
