"""Disk-full warning: a mount or pool above the admin's threshold is announced once per crossing, not per look."""

from __future__ import annotations

import logging
import os

from django.conf import settings

from casaos_site.events import publish

from .host import mount as host_mount
from .models import Mount, Pool, StorageSettings

log = logging.getLogger(__name__)
FULL_EVENT = "storage.space.low"  # the notifications issue listens for this, as for storage.health.worse
REARM_MARGIN = 2  # percent below the threshold before a mount can warn again: a disk hovering at 90 % warns once


def used_percent(target: str) -> float | None:
    """How full the filesystem mounted at target is, as df counts it (the root-reserved blocks are not free)."""
    if not host_mount.is_mounted(target):
        return None
    st = os.statvfs(target)
    used, avail = (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_bavail * st.f_frsize
    return 100.0 * used / (used + avail) if used + avail else None


def _warn(row: Mount | Pool, kind: str, percent: float, threshold: int) -> None:
    log.warning("storage: %s is %.0f%% full (threshold %s%%)", row.target, percent, threshold)
    data = {"kind": kind, "id": row.pk, "name": row.name, "target": row.target}
    publish(settings.STORAGE_GROUP, FULL_EVENT, {**data, "used_percent": round(percent, 1), "threshold": threshold})


def _check(row: Mount | Pool, kind: str, threshold: int) -> bool:
    """Warn on the way up, re-arm on the way down; True when it warned now."""
    percent = used_percent(row.target)
    if percent is None:
        return False
    crossed = percent >= threshold and not row.full_warned
    rearmed = row.full_warned and percent < threshold - REARM_MARGIN
    if crossed or rearmed:
        row.full_warned = crossed
        row.save(update_fields=["full_warned"])
    if crossed:
        _warn(row, kind, percent, threshold)
    return crossed


def full_check() -> int:
    """Look at every mounted disk and pool of ours (beat, every CASAOS_STORAGE_FULL_INTERVAL seconds)."""
    threshold = StorageSettings.load().full_threshold
    rows = [(m, "mount") for m in Mount.objects.filter(state=Mount.State.MOUNTED)]
    rows += [(p, "pool") for p in Pool.objects.filter(state__in=[Pool.State.MOUNTED, Pool.State.DEGRADED])]
    return sum(_check(row, kind, threshold) for row, kind in rows)
