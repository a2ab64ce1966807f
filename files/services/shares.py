"""Sharing: folders an admin grants to members, and public share links to exactly one file or folder."""

import stat
from datetime import datetime

import redis
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record

from ..models import FolderGrant, ShareLink
from ..paths import HOME, PathError, Target, check_name, resolve, resolve_in, split_view_path

PASSWORD_TRIES = 10  # wrong share passwords per link per window before the link locks
PASSWORD_WINDOW = 15 * 60


# ---------------------------------------------------------------------------- grants (admins)
def grant_create(*, admin, user, path: str, name: str, access: str, request=None) -> FolderGrant:
    """Share a folder of the root or of a disk ("@Data/Films") with a member under `name` in their view."""
    if not admin.is_admin:
        raise PathError(_("Only administrators can share folders with members."), 403)
    if access not in FolderGrant.Access.values:
        raise PathError(_("Access is read or write."), 400)
    if check_name(name) == HOME or FolderGrant.objects.filter(user=user, name=name).exists():
        raise PathError(_("The member already has a folder called “%(name)s”.") % {"name": name}, 409)
    target = resolve(admin, path)
    if not target.is_dir():
        raise PathError(_("Only folders can be shared with members."), 400)
    grant = FolderGrant.objects.create(user=user, name=name, access=access, created_by=admin, **_place(target))
    audit_record(
        actor=admin,
        action="files.grant",
        request=request,
        target=grant.place,
        details={"user": user.pk, "access": access, "disk": grant.disk},
    )
    return grant


def _place(target: Target) -> dict:
    """Where a grant keeps its folder: a view path of the root, or a disk's key and the path on that disk."""
    root = target.base.root
    if not root.is_disk:
        return {"path": target.view_path}
    return {"path": "/".join(target.parts), "disk": root.key, "disk_name": root.name}


def grant_delete(*, admin, grant: FolderGrant, request=None) -> None:
    if not admin.is_admin:
        raise PathError(_("Only administrators can change shared folders."), 403)
    audit_record(
        actor=admin, action="files.grant_revoke", request=request, target=grant.place, details={"user": grant.user_id}
    )
    grant.delete()


# ---------------------------------------------------------------------------- share links
def sharelink_create(
    *, user, path: str, access: str = ShareLink.Access.READ, expires_at: datetime | None = None, password: str = ""
) -> ShareLink:
    """A public link to the file or folder at `path`; upload-only links need a folder the user may write."""
    if access not in ShareLink.Access.values:
        raise PathError(_("Unknown share access."), 400)
    if expires_at is not None and expires_at <= timezone.now():
        raise PathError(_("The expiry must be in the future."), 400)
    target = resolve(user, path)
    kind = target.kind()
    if kind is None:
        raise PathError(_("No such file or folder."), 404)
    is_dir = kind == stat.S_IFDIR
    if access == ShareLink.Access.UPLOAD:
        target.require_writable()
        if not is_dir:
            raise PathError(_("Upload links are for folders."), 400)
    return ShareLink.objects.create(
        user=user,
        path=target.view_path,
        is_dir=is_dir,
        access=access,
        expires_at=expires_at,
        password=make_password(password) if password else "",
    )


def sharelink_revoke(*, user, share: ShareLink) -> ShareLink:
    if share.user_id != user.pk and not user.is_admin:
        raise PathError(_("No such share link."), 404)
    share.revoked_at = timezone.now()
    share.save(update_fields=["revoked_at"])
    return share


def sharelink_target(*, share: ShareLink, upload: bool = False) -> Target:
    """The shared entry, resolved through its owner's view now (an owner who lost access shares nothing)."""
    if not share.is_active or not share.user.is_active:
        raise PathError(_("This link has expired or was revoked."), 404)
    if (share.access == ShareLink.Access.UPLOAD) != upload:
        raise PathError(_("This link does not allow that."), 403)
    target = resolve(share.user, share.path)
    if upload:
        target.require_writable()
    kind = target.kind()
    if kind is None or (kind == stat.S_IFDIR) != share.is_dir:
        raise PathError(_("The shared file is gone."), 404)
    return target


def sharelink_resolve(*, share: ShareLink, path: str = "") -> Target:
    """A path inside a shared folder: the folder is the whole world, nothing beside it is reachable."""
    target = sharelink_target(share=share)
    parts = split_view_path(path or "")
    if not share.is_dir:
        if parts:
            raise PathError(_("No such file."), 404)
        return target
    return resolve_in(target.as_base(writable=False), parts)


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


def sharelink_unlock(*, share: ShareLink, password: str) -> bool:
    """Check a share password, with a per-link limit on wrong guesses (the right one is refused while locked)."""
    key = f"casaos:files:share-pw:{share.token}"
    client = _redis()
    tries = int(client.get(key) or 0)
    if tries >= PASSWORD_TRIES:
        raise PathError(_("Too many wrong passwords. Try again later."), 429)
    if share.password and check_password(password, share.password):
        return True
    pipe = client.pipeline()
    pipe.incr(key)
    pipe.expire(key, PASSWORD_WINDOW)
    pipe.execute()
    return False
