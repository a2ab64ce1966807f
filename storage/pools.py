"""Pools: mounted disks of our table merged into one mergerfs mount under the media root."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from accounts.services.audit import audit_record
from casaos_site.i18n import deferred

from .host import mergerfs
from .host import mount as host_mount
from .host.errors import Busy, HostError
from .models import Mount, Pool
from .mounts import busy_refusal, media_root
from .safety import StorageRefused

log = logging.getLogger(__name__)
POOL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


def _check_name(name: str) -> str:
    if not POOL_NAME.match(name or ""):
        raise StorageRefused(deferred("A pool name is 1 to 32 letters, digits, - or _."), code="name", status=400)
    taken = Pool.objects.filter(name=name).exists() or Mount.objects.filter(name=name).exists()
    if taken or (media_root() / name).exists():
        raise StorageRefused(
            deferred("The name %(name)s is taken under %(root)s.", name=name, root=str(media_root())), code="name-taken"
        )
    return name


def _check_policy(policy: str) -> str:
    try:
        return mergerfs.check_policy(policy)
    except HostError as exc:
        raise StorageRefused(
            deferred(
                "Unknown create policy %(policy)s (choose one of %(choices)s).",
                policy=policy,
                choices=", ".join(mergerfs.POLICIES),
            ),
            code="policy",
            status=400,
        ) from exc


def _members(mount_ids: list[int]) -> list[Mount]:
    """Mounts of our table, all mounted now, in the order given (the order mergerfs searches them)."""
    if not mount_ids:
        raise StorageRefused(deferred("A pool needs at least one mounted disk."), code="members", status=400)
    found = {m.pk: m for m in Mount.objects.filter(pk__in=mount_ids)}
    missing = [str(i) for i in mount_ids if i not in found]
    if missing or len(set(mount_ids)) != len(mount_ids):
        message = (
            deferred("Unknown mounts: %(mounts)s.", mounts=", ".join(missing))
            if missing
            else deferred("A mount is named more than once.")
        )
        raise StorageRefused(message, code="members", status=400)
    down = [m.name for m in found.values() if not host_mount.is_mounted(m.target)]
    if down:
        raise StorageRefused(deferred("Not mounted now: %(mounts)s.", mounts=", ".join(down)), code="members")
    return [found[i] for i in mount_ids]


def pool_create(*, name: str, mount_ids: list[int], policy: str = "epmfs", user=None, request=None) -> Pool:
    """Merge mounted disks into one mount with a create policy (default: existing path first, then most free)."""
    _check_name(name)
    _check_policy(policy)
    members = _members(mount_ids)
    target = media_root() / name
    try:
        mergerfs.mount(members=[m.target for m in members], target=str(target), policy=policy, name=name)
    except HostError as exc:
        _remove_folder(target)
        raise StorageRefused(
            deferred("The pool could not be mounted: %(error)s", error=str(exc)), code="mount-failed", status=422
        ) from exc
    pool = Pool.objects.create(name=name, target=str(target), policy=policy, created_by=user)
    pool.members.set(members)
    audit_record(
        actor=user,
        action="storage.pool.create",
        request=request,
        target=pool.target,
        details={"members": ",".join(m.name for m in members), "policy": policy},
    )
    return pool


def pool_change(
    *, pool: Pool, policy: str | None = None, mount_ids: list[int] | None = None, user=None, request=None
) -> Pool:
    """Change the policy or the members of a mounted pool in place (open files stay open)."""
    try:
        if policy is not None:
            mergerfs.set_policy(target=pool.target, policy=_check_policy(policy))
            pool.policy = policy
        if mount_ids is not None:
            members = _members(mount_ids)
            mergerfs.set_branches(target=pool.target, members=[m.target for m in members])
            pool.members.set(members)
    except HostError as exc:
        raise StorageRefused(
            deferred("The pool could not be changed: %(error)s", error=str(exc)), code="change-failed", status=422
        ) from exc
    pool.save(update_fields=["policy"])
    pool_follow_members(pool)
    audit_record(
        actor=user,
        action="storage.pool.change",
        request=request,
        target=pool.target,
        details={"policy": pool.policy, "members": ",".join(m.name for m in pool.members.all())},
    )
    return pool


def _remove_folder(target: Path) -> None:
    try:
        target.rmdir()
    except OSError as exc:
        log.info("pool folder %s left in place: %s", target, exc.strerror)


def pool_delete(*, pool: Pool, user=None, request=None) -> None:
    """Unmount the pool (its disks stay mounted, their files untouched) and forget it."""
    if host_mount.is_mounted(pool.target):
        try:
            mergerfs.unmount(pool.target)
        except Busy as exc:
            raise busy_refusal(pool.target, exc) from exc
        except HostError as exc:
            raise StorageRefused(
                deferred("The pool could not be unmounted: %(error)s", error=str(exc)), code="unmount-failed"
            ) from exc
    _remove_folder(Path(pool.target))
    target = pool.target
    pool.delete()
    audit_record(actor=user, action="storage.pool.delete", request=request, target=target)


def _members_up(pool: Pool) -> tuple[list[Mount], list[Mount]]:
    """(mounted, gone) members, in the pool's order: a member is up when our table and the kernel both say so."""
    members = list(pool.members.all())
    up = [m for m in members if m.state == Mount.State.MOUNTED and host_mount.is_mounted(m.target)]
    return up, [m for m in members if m not in up]


def _branches_follow(pool: Pool, up: list[Mount]) -> None:
    """The mergerfs mount over exactly the members that are up: never over the empty folder a gone disk left."""
    mounted = host_mount.is_mounted(pool.target)
    targets = [m.target for m in up]
    if not targets:
        if mounted:
            mergerfs.unmount(pool.target)
    elif not mounted:
        mergerfs.mount(members=targets, target=pool.target, policy=pool.policy, name=pool.name)
    elif mergerfs.branches(pool.target) != targets:
        mergerfs.set_branches(target=pool.target, members=targets)


def _state_of(up: list[Mount], gone: list[Mount]) -> tuple[str, str]:
    if not gone:
        return Pool.State.MOUNTED, ""
    missing = deferred("missing: %(names)s", names=", ".join(m.name for m in gone))
    return (Pool.State.DEGRADED if up else Pool.State.LOST), missing


def pool_follow_members(pool: Pool) -> Pool:
    """Mount the pool over its members that are up now; its state says which are missing (nofail)."""
    up, gone = _members_up(pool)
    try:
        _branches_follow(pool, up)
        pool.state, pool.last_error = _state_of(up, gone)
    except HostError as exc:
        pool.state, pool.last_error = Pool.State.FAILED, str(exc)
    pool.save(update_fields=["state", "last_error"])
    return pool


def pools_follow(mounts: list[Mount]) -> list[Pool]:
    """The pools of these mounts, after one went or came back."""
    pools = Pool.objects.filter(members__in=mounts).distinct().prefetch_related("members")
    return [pool_follow_members(pool) for pool in pools]


def pools_reapply() -> dict[str, str]:
    """Mount our pools again after their members, nofail: a pool with a missing member is mounted degraded over
    the others, one with none waits as lost."""
    return {pool.name: pool_follow_members(pool).state for pool in Pool.objects.prefetch_related("members")}
