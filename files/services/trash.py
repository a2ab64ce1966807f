"""Per-user trash: delete moves an entry into <root>/.casaos-trash/<user id>/ of the root it lies on (the files root
or its disk: a trashed file never changes disks), restore puts it back. Both ends are reached by descriptor: the
trash folder is made beneath that root with no link on the way."""

# fd-level work (renameat2, *at calls) reads clearer with os.*:

import errno
import os
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import fs
from ..fs import held
from ..models import TrashItem
from ..paths import RESERVED_PREFIX, PathError, all_roots, open_below, resolve, resolve_many
from ..roots import Root, root_of
from .common import changed, free_name, tree_size
from .transfer import Entry, Folder, Tally, copy_entry


def trash_folder(user, root: Root) -> Path:
    return root.path.joinpath(*_trash_parts(user.pk))


def _trash_parts(user_id: int) -> tuple[str, str]:
    return f"{RESERVED_PREFIX}trash", str(user_id)


def _move(src_dir: int, src: str, dst_dir: int, dst: str) -> None:
    """Rename, or on another disk copy by descriptor (links kept as they are) and then delete."""
    try:
        fs.rename_noreplace(src_dir, src, dst_dir, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        copy_entry(Entry(src_dir, src), Folder(dst_dir, None), dst, Tally())  # links as they are: they come back
        fs.remove_at(src_dir, src)


def entries_trash(*, user, paths: list[str]) -> list[TrashItem]:
    """Move entries into the user's trash (all checked first: one bad path moves nothing)."""
    targets = [t.require_writable() for t in resolve_many(user, paths, follow=False)]
    for target in targets:
        if target.is_base:
            raise PathError(_("This folder cannot be deleted."), 400)
        if not target.exists():
            raise PathError(_("“%(name)s” no longer exists.") % {"name": target.name}, 404)
    return [_trash_one(user, target) for target in targets]


def _trash_one(user, target) -> TrashItem:
    holder = uuid.uuid4().hex
    size, _count = tree_size(target)
    root = target.base.root
    with (
        held(open_below(root, (), fs.PATH_DIR)) as top,
        held(fs.make_dirs(top, (*_trash_parts(user.pk), holder))) as fd,
        target.folder() as (folder, name),
    ):
        is_dir = fs.is_dir_at(folder, name)
        _move(folder, name, fd, name)
    item = TrashItem.objects.create(
        user=user,
        name=target.name,
        original_path=target.view_path,
        stored=str(trash_folder(user, root) / holder / target.name),
        is_dir=is_dir,
        size=size,
    )
    changed(user=user, folder=target.view_path.rpartition("/")[0])
    return item


def _stored(item: TrashItem) -> tuple[Root, str, str]:
    """(root, holder folder, name) of a trashed entry, only ever inside this user's trash folder of that root."""
    stored = Path(item.stored)
    try:
        root = root_of(stored, all_roots())
    except ValueError:
        raise PathError(_("No such item in your trash."), 404) from None
    if stored.parent.parent != root.path.joinpath(*_trash_parts(item.user_id)):  # we only touch what we put there
        raise PathError(_("No such item in your trash."), 404)
    return root, stored.parent.name, stored.name


def trash_restore(*, user, item: TrashItem) -> str:
    """Put an entry back where it was (under a free name if that one is taken); returns its view path."""
    if item.user_id != user.pk:
        raise PathError(_("No such item in your trash."), 404)
    parent_path, _sep, _name = item.original_path.rpartition("/")
    parent = resolve(user, parent_path).require_writable()
    if not parent.is_dir():
        raise PathError(_("The original folder no longer exists."), 409)
    root, holder, stored = _stored(item)
    with (
        held(open_below(root, (*_trash_parts(user.pk), holder), fs.PATH_DIR)) as source,
        parent.fd(fs.PATH_DIR) as destination,
        transaction.atomic(),
    ):
        name = free_name(destination, item.name)
        _move(source, stored, destination, name)
        item.delete()
    with held(open_below(root, _trash_parts(user.pk), fs.PATH_DIR)) as trash:
        os.rmdir(holder, dir_fd=trash)
    changed(user=user, folder=parent.view_path)
    return "/".join(filter(None, (parent.view_path, name)))


def trash_delete(*, user, item: TrashItem) -> None:
    """Delete one trashed entry for good (one on a disk that is not mounted now: 409, kept until it is)."""
    if item.user_id != user.pk:
        raise PathError(_("No such item in your trash."), 404)
    try:
        root, holder, _name = _stored(item)
        with held(open_below(root, _trash_parts(user.pk), fs.PATH_DIR)) as trash:
            fs.remove_at(trash, holder)
    except PathError as exc:
        if exc.status == 409:
            raise  # its disk is away: the entry is still on it
    except FileNotFoundError:
        pass  # nothing of ours there any more: the row goes all the same
    item.delete()


def _delete_all(items: list[TrashItem]) -> int:
    """Delete each for good, leaving those on a disk that is not mounted now; returns how many went."""
    gone = 0
    for item in items:
        try:
            trash_delete(user=item.user, item=item)
        except PathError:
            continue
        gone += 1
    return gone


def trash_empty(*, user) -> int:
    """Delete everything in the user's trash for good; returns how many entries went."""
    return _delete_all(list(TrashItem.objects.filter(user=user).select_related("user")))


def trash_purge_expired() -> int:
    """Entries older than CASAOS_FILES_TRASH_DAYS go for good (the hourly cleanup)."""
    cutoff = timezone.now() - timedelta(days=settings.FILES_TRASH_DAYS)
    return _delete_all(list(TrashItem.objects.filter(deleted_at__lt=cutoff).select_related("user")))
