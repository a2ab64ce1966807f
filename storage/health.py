"""Disk health: SMART readings kept as history, and a change for the worse published as an event."""

from __future__ import annotations

import logging

from django.conf import settings

from casaos_site.events import publish_on_commit

from .host import smart
from .host.errors import HostError
from .models import Disk, HealthSample

log = logging.getLogger(__name__)
WORSE_EVENT = "storage.health.worse"  # the notifications issue listens for this
RANK = {smart.Health.GOOD: 0, smart.Health.WARNING: 1, smart.Health.FAILING: 2}
COUNTERS = ("reallocated", "pending", "uncorrectable", "critical_warning")


def health_worse(before: HealthSample | None, after: HealthSample) -> list[str]:
    """What got worse between two readings: the verdict, or a counter of bad sectors or warnings that grew."""
    if before is None or not (before.available and after.available):
        return []
    reasons = []
    if RANK.get(after.health, 0) > RANK.get(before.health, 0):
        reasons.append(f"health {before.health} → {after.health}")
    for name in COUNTERS:
        old, new = getattr(before, name), getattr(after, name)
        if new is not None and new > (old or 0):
            reasons.append(f"{name.replace('_', ' ')} {old or 0} → {new}")
    return reasons


def _sample(disk: Disk, report: smart.SmartReport) -> HealthSample:
    figures = {
        name: getattr(report, name)
        for name in (
            "health",
            "available",
            "passed",
            "temperature",
            "power_on_hours",
            *COUNTERS,
            "percentage_used",
            "message",
        )
    }
    return HealthSample.objects.create(disk=disk, **figures)


def disk_health_check(*, disk: Disk) -> HealthSample:
    """Read SMART now (a disk without it is "unavailable", not an error), keep it, and announce a worsening."""
    before = disk.health_samples.first()
    report, _doc = smart.read(disk.path)
    if report.health == smart.Health.ASLEEP and before is not None:
        return before  # a sleeping disk is not woken; its last reading stands
    sample = _sample(disk, report)
    Disk.objects.filter(pk=disk.pk).update(health=sample.health, temperature=sample.temperature)
    if reasons := health_worse(before, sample):
        log.warning("storage: %s got worse: %s", disk, "; ".join(reasons))
        publish_on_commit(settings.STORAGE_GROUP, WORSE_EVENT, {"disk": disk.stable_id, "reasons": reasons})
    return sample


def health_check_all() -> int:
    """Check every attached disk (arrays have no SMART of their own: their members are checked)."""
    checked = 0
    for disk in Disk.objects.filter(present=True, kind=Disk.Kind.DISK):
        try:
            disk_health_check(disk=disk)
            checked += 1
        except HostError as exc:
            log.warning("storage: no SMART reading for %s: %s", disk, exc)
    return checked
