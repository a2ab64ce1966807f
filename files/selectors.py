"""Reads of the file manager: folder listings (sorted, paged), search, sizes, trash, shares and tasks."""

import contextlib
import grp
import mimetypes
import os
import pwd
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _

from . import fs
from .fs import held
from .models import FileTask, FolderGrant, ShareLink, TrashItem
from .paths import RESERVED_PREFIX, PathError, Target, open_below, resolve, resolve_in, user_bases
from .roots import DISK_PREFIX
from .services.common import tree_size

MAX_PAGE_SIZE = 1000
SEARCH_LIMIT = 500


@dataclass
class Entry:
    """One row of a listing, as the API and the templates show it."""

    name: str
    path: str
    is_dir: bool
    is_link: bool
    link_outside: bool
    size: int
    modified: float
    mode: str
    owner: str
    group: str
    mime: str
    hidden: bool

    def as_dict(self) -> dict:
        # Every field is a plain value: a shallow copy is the same dict as dataclasses.asdict, 30x cheaper (a
        # listing page holds up to 1,000 entries).
        return dict(vars(self))


@lru_cache(maxsize=256)
def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


@lru_cache(maxsize=256)
def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _entry(folder_view: str, where: Target, st: os.stat_result) -> Entry:
    """The row of the entry `where` (not followed), whose lstat is `st`; a link shows what it leads to when that
    stays beneath the base, and is marked as leading outside otherwise (shown, never followed)."""
    name = where.name
    is_link = stat.S_ISLNK(st.st_mode)
    outside = False
    if is_link:
        target_st = _through(where)
        outside = target_st is None
        st = target_st or st
    is_dir = stat.S_ISDIR(st.st_mode)
    return Entry(
        name=name,
        path="/".join(filter(None, (folder_view, name))),
        is_dir=is_dir,
        is_link=is_link,
        link_outside=outside,
        size=0 if is_dir else st.st_size,
        modified=st.st_mtime,
        mode=stat.filemode(st.st_mode),
        owner=_owner(st.st_uid),
        group=_group(st.st_gid),
        mime="" if is_dir else (mimetypes.guess_type(name)[0] or "application/octet-stream"),
        hidden=name.startswith("."),
    )


def _through(link: Target) -> os.stat_result | None:
    """The status of what a link leads to, when it leads somewhere beneath the base (None: out, or nowhere)."""
    try:
        return resolve_in(link.base, link.resolved).lstat()
    except (PathError, OSError):
        return None


def _scan(folder: Target, fd: int, hidden: bool, *, stat_all: bool) -> list[tuple[str, os.DirEntry, bool, object]]:
    """(name, entry, is_dir, lstat) of every entry of the folder open as `fd`. Without `stat_all`, from the directory
    alone: lstat is None until the page needs it, and is_dir comes from the directory's own record of each entry's
    type where the file system keeps one (links aside). An entry that vanishes meanwhile is left out."""
    rows = []
    with os.scandir(fd) as it:
        for de in it:
            name = de.name
            if name.startswith(RESERVED_PREFIX) or (not hidden and name.startswith(".")):
                continue
            try:
                st = de.stat(follow_symlinks=False) if stat_all else None
                is_dir = de.is_dir(follow_symlinks=False) or (de.is_symlink() and _leads_to_folder(folder.entry(name)))
            except OSError:
                continue
            rows.append((name, de, is_dir, st))
    return rows


def _lstat(de: os.DirEntry) -> os.stat_result | None:
    """The entry's lstat (cached by the DirEntry), or None if it vanished since the scan."""
    try:
        return de.stat(follow_symlinks=False)
    except OSError:
        return None


def _leads_to_folder(link: Target) -> bool:
    """A link counts as a folder only when it leads to one inside the base (it is never followed out of it)."""
    st = _through(link)
    return st is not None and stat.S_ISDIR(st.st_mode)


# Folders first, then the key. Only size and modified need every entry's lstat (STAT_SORTS): sorted by name or
# type, a page of a 10,000-entry folder stats just the entries it shows.
STAT_SORTS = ("size", "modified")
_SORT_KEYS = {
    "name": lambda r: (not r[2], r[0].lower()),
    "size": lambda r: (not r[2], r[3].st_size, r[0].lower()),
    "modified": lambda r: (not r[2], r[3].st_mtime, r[0].lower()),
    "type": lambda r: (not r[2], Path(r[0]).suffix.lower(), r[0].lower()),
}
SORT_KEYS = tuple(_SORT_KEYS)


def folder_list(
    *,
    user,
    path: str,
    sort: str = "name",
    reverse: bool = False,
    hidden: bool = False,
    page: int = 1,
    page_size: int = 200,
) -> dict:
    """A page of a folder (folders first, then the sort key); the totals count the whole folder."""
    if sort not in SORT_KEYS:
        raise PathError(_("Unknown sort key."), 400)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    if not user.is_admin and not [p for p in (path or "").split("/") if p not in ("", ".")]:
        return _member_root(user)
    folder = resolve(user, path)
    if not folder.is_dir():
        raise PathError(_("This is not a folder."), 400)
    view = folder.view_path
    # DirEntry.stat() of a listing by descriptor asks that descriptor: it stays open until the page is built.
    with folder.fd(fs.DIR_READ) as fd:
        rows = _scan(folder, fd, hidden, stat_all=sort in STAT_SORTS)
        vfs = os.statvfs(fd)  # the disk the folder is on: where an upload into it lands
        rows.sort(key=_SORT_KEYS[sort], reverse=reverse)
        start = (max(page, 1) - 1) * page_size
        entries = [
            _entry(view, folder.entry(name), st)
            for name, de, _is_dir, known in rows[start : start + page_size]
            if (st := known or _lstat(de)) is not None
        ]
    return {
        "path": view,
        "writable": folder.base.writable,
        "free": vfs.f_bavail * vfs.f_frsize,
        "count": len(rows),
        "page": max(page, 1),
        "page_size": page_size,
        "pages": max(1, -(-len(rows) // page_size)),
        "entries": entries,
        "breadcrumb": crumbs_of(user, folder),
        "disk": folder.base.root.name if folder.base.root.is_disk else "",
    }


def places(user) -> list[dict]:
    """The bases to show beside the listing: the root (or home and each granted folder) and each disk mounted now,
    with its free space. A disk that is not mounted is left out (its paths answer why)."""
    found = []
    for name, base in user_bases(user).items():
        try:
            with held(open_below(base.root, base.rel)) as fd:
                vfs = os.statvfs(fd)
        except (PathError, OSError):
            continue
        label = name.removeprefix(DISK_PREFIX) if base.root.is_disk and user.is_admin else name
        found.append({"name": label, "path": name, "disk": base.root.is_disk, "free": vfs.f_bavail * vfs.f_frsize})
    return found


def _member_root(user) -> dict:
    entries = []
    for name, base in user_bases(user).items():
        try:
            with held(open_below(base.root, base.rel)) as fd:
                st = os.fstat(fd)
        except (PathError, OSError):
            continue  # a granted folder of a disk that is not mounted now is not listed
        entries.append(
            Entry(
                name=name,
                path=name,
                is_dir=True,
                is_link=False,
                link_outside=False,
                size=0,
                modified=st.st_mtime,
                mode=stat.filemode(st.st_mode),
                owner=_owner(st.st_uid),
                group=_group(st.st_gid),
                mime="",
                hidden=False,
            )
        )
    return {
        "path": "",
        "writable": False,
        "free": None,
        "count": len(entries),
        "page": 1,
        "page_size": len(entries) or 1,
        "pages": 1,
        "entries": entries,
        "breadcrumb": [],
    }


def crumbs_of(user, target: Target) -> list[dict]:
    """The breadcrumb of a resolved path (an admin's disk shown by its name)."""
    return breadcrumb(target.view_path, disk=user.is_admin and target.base.root.is_disk)


def breadcrumb(view_path: str, *, disk: bool = False) -> list[dict]:
    """[{name, path, disk}] for each folder on the way to `view_path`; `disk`: the first part is a disk ("@Data"),
    shown by its name."""
    parts = [p for p in view_path.split("/") if p]
    crumbs = [{"name": name, "path": "/".join(parts[: i + 1]), "disk": False} for i, name in enumerate(parts)]
    if disk and crumbs:
        crumbs[0].update(name=parts[0].removeprefix(DISK_PREFIX), disk=True)
    return crumbs


def entry_info(*, user, path: str) -> Entry:
    """One entry's details (the link itself when it is a link)."""
    target = resolve(user, path, follow=False)
    try:
        st = target.lstat()
    except FileNotFoundError:
        raise PathError(_("No such file or folder."), 404) from None
    return entry_of(target, st)


def entry_of(target: Target, st: os.stat_result) -> Entry:
    """The row of an entry whose status is known (read on the descriptor a service acted in)."""
    return _entry(target.view_path.rpartition("/")[0], target, st)


def folder_size(*, user, path: str) -> dict:
    """Bytes and files under a folder, on demand (it walks the whole tree)."""
    target = resolve(user, path)
    if not target.exists():
        raise PathError(_("No such file or folder."), 404)
    size, count = tree_size(target)
    return {"path": target.view_path, "size": size, "files": count}


def folder_search(*, user, path: str, query: str, hidden: bool = False) -> list[Entry]:
    """Entries under a folder whose name contains `query` (case-insensitive), links never followed."""
    query = (query or "").strip().lower()
    if not query:
        return []
    folder = resolve(user, path)
    if not folder.is_dir():
        raise PathError(_("This is not a folder."), 404)
    found: list[Entry] = []

    def skip(name: str) -> bool:
        return name.startswith(RESERVED_PREFIX) or (not hidden and name[0] == ".")

    with folder.fd() as fd, contextlib.closing(fs.tree(fd, skip=skip)) as entries:
        for parts, st, _in in entries:
            if query in parts[-1].lower():
                view = "/".join(p for p in (folder.view_path, *parts[:-1]) if p)
                found.append(_entry(view, _beneath(folder, parts), st))
                if len(found) >= SEARCH_LIMIT:
                    break
    return found


def _beneath(folder: Target, parts: tuple[str, ...]) -> Target:
    """The entry at `parts` below a folder, as named there (found by a walk: no link among the folders)."""
    return Target(base=folder.base, parts=(*folder.parts, *parts), resolved=(*folder.resolved, *parts), followed=False)


def trash_list(*, user):
    return TrashItem.objects.filter(user=user)


def sharelinks_of(*, user):
    return ShareLink.objects.filter(user=user)


def grants_all():
    return FolderGrant.objects.select_related("user")


def tasks_of(*, user, limit: int = 20):
    return FileTask.objects.filter(user=user)[:limit]


def upload_of(*, user, upload_id):
    """A tus upload of this user (None when it is not theirs or does not exist)."""
    from .models import Upload

    return Upload.objects.filter(pk=upload_id, user=user, share__isnull=True).first()
