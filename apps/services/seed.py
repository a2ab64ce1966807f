"""Installs whose data comes from elsewhere before their containers exist (a copy of an app restored from a backup).

`Installation.seed` names the source (`{"kind": "backup", ...}`); the part of the site that owns that kind registers
a Seeder (backups does, in its AppConfig.ready), so apps/ does not depend on it. The pipeline calls `fill` once, after
the app's networks, volumes and folders exist and before any container is made, and `ended` when the install is over
either way. A seeded install that fails or is cancelled leaves nothing behind, its row included: a retry would start
an app without its data, and the data is still where it came from.
"""

import logging
from typing import Protocol

from runtime import Engine
from runtime.compose import Project

from ..models import Installation
from .common import app_publish_removed, app_update

log = logging.getLogger(__name__)


class Seeder(Protocol):
    """Fills a new app's folders and volumes, and hears how its install ended."""

    def fill(self, *, inst: Installation, eng: Engine, project: Project) -> None:
        """Put the data in (the app's volumes and folders exist, no container does); raise to fail the install."""

    def ended(self, *, inst: Installation, ok: bool, message: str) -> None:
        """The install is over: running (ok), or failed or cancelled with its engine objects already removed."""


_SEEDERS: dict[str, Seeder] = {}


def seeder_register(kind: str, seeder: Seeder) -> None:
    """Make `seeder` the one of installs whose seed is of this kind."""
    _SEEDERS[kind] = seeder


def seed_fill(*, inst: Installation, eng: Engine, project: Project) -> None:
    """Fill a seeded install once: a pass resumed after the fill ended must not replace what its containers use."""
    if not inst.seed or inst.seed.get("filled"):
        return
    _seeder(inst).fill(inst=inst, eng=eng, project=project)
    app_update(inst, seed={**inst.seed, "filled": True}, publish_state=False)


def seed_ended(*, inst: Installation, ok: bool, message: str = "") -> bool:
    """Tell the seeder how the install ended; True when the install was seeded (a failed one's row is to go)."""
    if not inst.seed:
        return False
    try:
        _seeder(inst).ended(inst=inst, ok=ok, message=message)
    except Exception:  # the install's own end is recorded whatever the seeder's bookkeeping did
        log.exception("the seeder of %s failed at the end of its install", inst.name)
    if ok:
        app_update(inst, seed={}, publish_state=False)
    return True


def seed_failed(*, inst: Installation, message: str, removed: bool = True) -> None:
    """A seeded install failed or was cancelled: its seeder hears it, and its row goes once nothing of it is left
    (`removed`; otherwise the row stays, failed, naming what is left, for an uninstall to finish)."""
    if not seed_ended(inst=inst, ok=False, message=message) or not removed:
        return
    pk = inst.pk
    inst.delete()
    app_publish_removed(pk)


def _seeder(inst: Installation) -> Seeder:
    kind = inst.seed.get("kind", "")
    if kind not in _SEEDERS:
        raise LookupError(f"no seeder for {kind!r} is registered")
    return _SEEDERS[kind]
