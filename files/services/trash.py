"""Per-user trash: delete moves an entry into <root>/.casaos-trash/<user id>/, restore puts it back."""

import shutil
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import TrashItem
from ..paths import RESERVED_PREFIX, PathError, files_root, resolve
from .common import changed, free_name, remove_entry, rename_noreplace, tree_size


def trash_folder(user) -> Path:
    return files_root() / f"{RESERVED_PREFIX}trash" / str(user.pk)


def _move(src: Path, dst: Path) -> None:
    try:
        rename_noreplace(src, dst)
    except OSError as exc:
        if exc.errno != 18:  # EXDEV: another disk; copy then delete
            raise
        shutil.move(src, dst)


def entries_trash(*, user, paths: list[str]) -> list[TrashItem]:
    """Move entries into the user's trash (all checked first: one bad path moves nothing)."""
    targets = [resolve(user, p, follow=False).require_writable() for p in paths]
    for target in targets:
        if target.is_base:
            raise PathError(_("This folder cannot be deleted."), 400)
        if not (target.real.exists() or target.real.is_symlink()):
            raise PathError(_("“%(name)s” no longer exists.") % {"name": target.name}, 404)
    items = []
    for target in targets:
        holder = trash_folder(user) / uuid.uuid4().hex
        holder.mkdir(parents=True)
        size, _count = tree_size(target.real)
        is_dir = target.real.is_dir() and not target.real.is_symlink()
        _move(target.real, holder / target.name)
        items.append(
            TrashItem.objects.create(
                user=user,
                name=target.name,
                original_path=target.view_path,
                stored=str(holder / target.name),
                is_dir=is_dir,
                size=size,
            )
        )
        changed(user=user, folder=target.view_path.rpartition("/")[0])
    return items


def trash_restore(*, user, item: TrashItem) -> str:
    """Put an entry back where it was (under a free name if that one is taken); returns its view path."""
    if item.user_id != user.pk:
        raise PathError(_("No such item in your trash."), 404)
    parent_path, _sep, _name = item.original_path.rpartition("/")
    parent = resolve(user, parent_path).require_writable()
    if not parent.real.is_dir():
        raise PathError(_("The original folder no longer exists."), 409)
    name = free_name(parent.real, item.name)
    with transaction.atomic():
        _move(Path(item.stored), parent.real / name)
        Path(item.stored).parent.rmdir()
        item.delete()
    changed(user=user, folder=parent.view_path)
    return "/".join(filter(None, (parent.view_path, name)))


def trash_delete(*, user, item: TrashItem) -> None:
    """Delete one trashed entry for good."""
    if item.user_id != user.pk:
        raise PathError(_("No such item in your trash."), 404)
    holder = Path(item.stored).parent
    if holder.parent == trash_folder(user):  # we only ever remove what we put there
        remove_entry(holder)
    item.delete()


def trash_empty(*, user) -> int:
    """Delete everything in the user's trash for good; returns how many entries went."""
    items = list(TrashItem.objects.filter(user=user))
    for item in items:
        trash_delete(user=user, item=item)
    return len(items)


def trash_purge_expired() -> int:
    """Entries older than CASAOS_FILES_TRASH_DAYS go for good (the hourly cleanup)."""
    cutoff = timezone.now() - timedelta(days=settings.FILES_TRASH_DAYS)
    items = list(TrashItem.objects.filter(deleted_at__lt=cutoff).select_related("user"))
    for item in items:
        trash_delete(user=item.user, item=item)
    return len(items)
