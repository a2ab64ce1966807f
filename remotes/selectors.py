"""Reads of the remotes app that other apps use."""

from django.db.models import QuerySet

from accounts.permissions import user_is_admin

from .models import Remote


def remotes_rclone_serves(*, user) -> QuerySet[Remote]:
    """The remotes a user may have rclone reach for another app (a backup repository): every remote but NFS
    exports (the kernel mounts those; rclone has no NFS client) for an admin, none for anyone else (remotes are
    admins' roots, like disks)."""
    if not user_is_admin(user):
        return Remote.objects.none()
    return Remote.objects.exclude(kind=Remote.Kind.NFS)
