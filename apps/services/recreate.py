"""Replace an app's containers under their own names: the old one is set aside until the new one is healthy.

As Compose recreates: stop the old container, rename it `<name>-casaos-old`, create and start the new one under the
name, wait until the app is healthy, then remove what was set aside. A rollback renames the old containers back:
the very same containers return, so names a compose file fixes (`container_name`) survive a change like any other.

Each step is written to the change's journal (the snapshot row, `AppUpdateState.snapshot`) before the engine is
asked to take it, so the recovery of a dead worker (recovery.py) knows where it stopped: before the new containers
were healthy it puts the old ones back; once the change is committed it only removes what was set aside.
"""

import logging

from casaos_site.i18n import deferred
from runtime import ContainerInfo, Engine
from runtime import labels as L
from runtime.compose import Project
from runtime.errors import EngineError, EngineUnavailable, NotFound
from runtime.specs import ContainerSpec

from ..models import AppUpdateState, Installation
from ..selectors import app_containers_of
from .common import InstallFailed
from .control import containers_in_order

log = logging.getLogger(__name__)
COMMITTED = "committed"  # the new containers were healthy: what is left to do is removing the old ones


def journal(*, inst: Installation, snapshot: dict, step: str, phase: str = "") -> None:
    """Record the step about to be taken (and the phase it belongs to) before the engine is asked to take it."""
    snapshot["step"] = step
    if phase:
        snapshot["phase"] = phase
    AppUpdateState.objects.filter(installation=inst).update(snapshot=snapshot)


def containers_set_aside(
    *, inst: Installation, eng: Engine, project: Project, snapshot: dict, fresh_images: bool = False
) -> list[str]:
    """Stop every container the new project changes or drops (dependants first) and rename it out of the way."""
    specs = {spec.name: spec for spec in project.containers}
    replaced = _to_replace(eng, inst.name, project, fresh_images=fresh_images)
    for info in containers_in_order(eng, inst.name, project, reverse=True):
        if info.name in replaced:
            _set_aside(inst, eng, snapshot, info, specs.get(info.name))
    return sorted(replaced)


def asides_remove(*, inst: Installation, eng: Engine, snapshot: dict) -> None:
    """The change is committed: remove what was set aside (an engine that is gone is left to the recovery)."""
    journal(inst=inst, snapshot=snapshot, step=deferred("removing the old containers"), phase=COMMITTED)
    for info in _asides(eng, inst.name):
        journal(inst=inst, snapshot=snapshot, step=deferred("removing %(name)s", name=info.name))
        try:
            eng.remove(info.id, force=True)
        except EngineUnavailable:
            raise
        except EngineError as exc:  # the new app runs; a leftover goes with the next change or the uninstall
            log.warning("could not remove %s of %s: %s", info.name, inst.name, exc.message)


def asides_restore(*, inst: Installation, eng: Engine, snapshot: dict) -> None:
    """Put back what was set aside: the new container under the name goes, the old one takes its name again."""
    for info in _asides(eng, inst.name):
        name = info.name.removesuffix(L.ASIDE)
        journal(inst=inst, snapshot=snapshot, step=deferred("putting %(name)s back", name=name))
        _remove_own(inst, eng, name)
        eng.rename(info.id, name)


def _to_replace(eng: Engine, app: str, project: Project, *, fresh_images: bool) -> set[str]:
    """Containers the new project drops or configures otherwise, and those that share a namespace with one."""
    specs = {spec.name: spec for spec in project.containers}
    current = {c.name: c for c in app_containers_of(eng=eng, name=app)}
    replaced = {name for name, info in current.items() if _differs(eng, info, specs.get(name), fresh_images)}
    # A container in another's network, pid or ipc namespace would be left in a dead one: it follows (as in Compose).
    while followers := {
        s.name for s in project.containers if s.name in current and s.name not in replaced and _joins(s, replaced)
    }:
        replaced |= followers
    return replaced


def _differs(eng: Engine, info: ContainerInfo, spec: ContainerSpec | None, fresh_images: bool) -> bool:
    if spec is None or info.labels.get(L.CONFIG_HASH) != spec.labels.get(L.CONFIG_HASH):
        return True
    return fresh_images and image_of(eng, info.id) != eng.image_id(spec.image)


def _joins(spec: ContainerSpec, names: set[str]) -> bool:
    modes = (spec.network_mode, spec.pid, spec.ipc)
    return any(mode.startswith("container:") and mode.removeprefix("container:") in names for mode in modes)


def _set_aside(inst: Installation, eng: Engine, snapshot: dict, info: ContainerInfo, spec) -> None:
    aside = L.aside_name(info.name)
    for stale in (c for c in _asides(eng, inst.name) if c.name == aside):  # left by an earlier, unfinished change
        journal(inst=inst, snapshot=snapshot, step=deferred("removing %(name)s", name=aside))
        eng.remove(stale.id, force=True)
    if info.running or info.state == "restarting":
        journal(inst=inst, snapshot=snapshot, step=deferred("stopping %(name)s", name=info.name))
        eng.stop(info.id, timeout=spec.stop_grace_period if spec else None)
    journal(inst=inst, snapshot=snapshot, step=deferred("setting %(name)s aside", name=info.name))
    eng.rename(info.id, aside)


def _remove_own(inst: Installation, eng: Engine, name: str) -> None:
    """Remove the container under `name` when it is this app's (the new one); someone else's is not ours to touch."""
    try:
        found = eng.inspect(name)
    except NotFound:
        return
    if found.name != name:  # Docker falls back to an id prefix: "db" may be a container whose id starts with db
        return
    if found.labels.get(L.APP) != inst.name:
        raise InstallFailed(
            deferred("A container named %(name)s that is not part of this app is in the way.", name=name)
        )
    eng.remove(found.id, force=True)


def _asides(eng: Engine, app: str) -> list[ContainerInfo]:
    return [c for c in eng.list({L.APP: app}) if L.is_aside(c.name)]


def image_of(eng: Engine, ref: str) -> str:
    """The image id a container runs ("" when it is gone)."""
    try:
        return eng.container_config(ref).get("Image", "")
    except NotFound:
        return ""
