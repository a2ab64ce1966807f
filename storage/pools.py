"""Pools: mounted disks of our table merged into one mergerfs mount under the media root."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from accounts.services.audit import audit_record

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
        raise StorageRefused("A pool name is 1 to 32 letters, digits, - or _.", code="name", status=400)
    taken = Pool.objects.filter(name=name).exists() or Mount.objects.filter(name=name).exists()
    if taken or (media_root() / name).exists():
        raise StorageRefused(f"The name {name} is taken under {media_root()}.", code="name-taken")
    return name


def _check_policy(policy: str) -> str:
    try:
        return mergerfs.check_policy(policy)
    except HostError as exc:
        raise StorageRefused(exc.message + ".", code="policy", status=400) from exc


def _members(mount_ids: list[int]) -> list[Mount]:
    """Mounts of our table, all mounted now, in the order given (the order mergerfs searches them)."""
    if not mount_ids:
        raise StorageRefused("A pool needs at least one mounted disk.", code="members", status=400)
    found = {m.pk: m for m in Mount.objects.filter(pk__in=mount_ids)}
    missing = [str(i) for i in mount_ids if i not in found]
    if missing or len(set(mount_ids)) != len(mount_ids):
        raise StorageRefused(
            f"Unknown or repeated mounts: {', '.join(missing) or 'repeated'}.", code="members", status=400
        )
    down = [m.name for m in found.values() if not host_mount.is_mounted(m.target)]
    if down:
        raise StorageRefused(f"Not mounted now: {', '.join(down)}.", code="members")
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
        raise StorageRefused(f"The pool could not be mounted: {exc}", code="mount-failed", status=422) from exc
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
        raise StorageRefused(f"The pool could not be changed: {exc}", code="change-failed", status=422) from exc
    pool.save(update_fields=["policy"])
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
            raise StorageRefused(f"The pool could not be unmounted: {exc}", code="unmount-failed") from exc
    _remove_folder(Path(pool.target))
    target = pool.target
    pool.delete()
    audit_record(actor=user, action="storage.pool.delete", request=request, target=target)


def pools_reapply() -> dict[str, str]:
    """Mount our pools again after their members, nofail: a pool with a missing member waits, marked failed."""
    states = {}
    for pool in Pool.objects.prefetch_related("members"):
        members = list(pool.members.all())
        try:
            if not host_mount.is_mounted(pool.target):
                if any(not host_mount.is_mounted(m.target) for m in members):
                    raise HostError("a member disk is not mounted")
                mergerfs.mount(
                    members=[m.target for m in members], target=pool.target, policy=pool.policy, name=pool.name
                )
            pool.state, pool.last_error = Pool.State.MOUNTED, ""
        except HostError as exc:
            pool.state, pool.last_error = Pool.State.FAILED, str(exc)
        pool.save(update_fields=["state", "last_error"])
        states[pool.name] = pool.state
    return states
