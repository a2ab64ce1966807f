"""Change a running app safely: snapshot, apply a new configuration, and restore the snapshot when it fails.

Settings edits and updates both go through `config_change`. The new containers are made by the install
pipeline's own steps (AppApply); only containers whose configuration or image changed are replaced, each one set
aside under another name until its replacement is healthy (recreate.py), so a rollback brings the very same old
containers back. Volumes and bind folders are never touched, so data survives a failed change as well as a good one.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace

from casaos_site.i18n import deferred
from runtime import Engine
from runtime import labels as L
from runtime.compose import Project, load_project
from runtime.errors import EngineError, EngineUnavailable, NotFound

from ..models import AppEvent, AppUpdateState, Installation
from ..selectors import app_claimed_ports, app_containers_of
from .common import ComposeInvalid, InstallError, InstallFailed, app_update, engine_for, error_stored
from .control import AppApply, stop_all
from .install import _engine_down, _port_free, _web_port, app_project
from .operation import OperationPending
from .policy import consent_commit, consent_held, policy_gate
from .recreate import asides_remove, asides_restore, containers_set_aside, image_of, journal

log = logging.getLogger(__name__)
Outcome = AppEvent.Outcome
ENGINE_WAIT = 90  # seconds a rollback waits for an engine that is restarting


def config_validate(
    *,
    inst: Installation,
    compose: str,
    user,
    operation: str,
    variables: dict | None = None,
    consent: bool = False,
    consent_paths: Iterable[str] = (),
    request=None,
) -> tuple[dict, Project]:
    """Like a new install: the document translates, the policy passes (host access the running configuration does
    not hold needs consent), and new host ports are free. Returns the consent record the change will run under, and
    the project (for the resource checks)."""
    variables = variables if variables is not None else inst.variables
    try:
        project = load_project(compose, variables=variables, project_name=inst.name)
    except ValueError as exc:
        raise ComposeInvalid(exc) from exc
    _names_check(inst, project)
    record = policy_gate(
        project=project,
        app=inst.name,
        user=user,
        consent=consent,
        named=consent_paths,
        request=request,
        held=consent_held(inst, user=user),
        operation=operation,
    )
    ports_check(inst=inst, project=project)
    return record, project


def _names_check(inst: Installation, project: Project) -> None:
    """Every container name (a fixed `container_name` too), and the name its old one is set aside under, is free
    or this app's own."""
    eng = engine_for(inst)
    for name in (n for spec in project.containers for n in (spec.name, L.aside_name(spec.name))):
        try:
            found = eng.inspect(name)
        except NotFound:
            continue
        except EngineError as exc:
            raise _engine_down(exc) from exc
        if found.name == name and found.labels.get(L.APP) != inst.name:  # not an id that only starts with the name
            raise InstallError(
                deferred("A container named %(name)s already exists and is not part of this app.", name=name),
                code="name",
            )


def ports_check(*, inst: Installation, project: Project) -> list[str]:
    """Host ports: not twice, not another app's, and free on the machine unless this app holds them already."""
    claimed = app_claimed_ports(exclude_pk=inst.pk)
    own = set(inst.ports or ())
    seen: set[str] = set()
    for spec in project.containers:
        for port in spec.ports:
            if port.published is None:
                continue
            key = f"{port.protocol}/{port.published}"
            if key in seen:
                raise InstallError(deferred("Port %(port)s is published twice.", port=key), code="ports")
            if key in claimed:
                raise InstallError(
                    deferred("Port %(port)s is already used by the app %(app)s.", port=key, app=claimed[key]),
                    code="ports",
                )
            if key not in own and not _port_free(port.published, port.protocol, port.host_ip):
                raise InstallError(deferred("Port %(port)s is already in use on this machine.", port=key), code="ports")
            seen.add(key)
    return sorted(seen)


def snapshot_take(*, inst: Installation, eng: Engine, event_id: int | None = None) -> dict:
    """What restores the app as it is now: the stored request and each container's exact image and config hash."""
    containers = {}
    for info in app_containers_of(eng=eng, name=inst.name):
        try:
            image_id = eng.container_config(info.id).get("Image", "")
        except NotFound:
            continue
        containers[info.name] = {
            "image_id": image_id,
            "hash": info.labels.get(L.CONFIG_HASH, ""),
            "running": info.running,
        }
    snapshot = {
        "compose": inst.compose,
        "variables": inst.variables,
        "ports": inst.ports,
        "web_port": inst.web_port,
        "containers": containers,
        "event": event_id,
    }
    AppUpdateState.objects.update_or_create(installation=inst, defaults={"snapshot": snapshot})
    return snapshot


def config_change(
    *,
    inst: Installation,
    eng: Engine,
    compose: str,
    variables: dict | None = None,
    fresh_images: bool = False,
    what: str,
    event_id: int | None = None,
    record: dict | None = None,
    before_start: Callable[[], None] | None = None,
) -> tuple[str, str, dict]:
    """Apply a new compose (and variables), wait until it is healthy, or restore the snapshot.

    `fresh_images`: recreate containers whose tag now points at another image even when the config is the same
    (an update of a `latest`-style tag). `record`: the consent record the request approved the change with (the
    policy is checked against it, and it becomes the app's once applied). `before_start`: on a rollback, called with
    the previous containers back and every container of the app stopped, before any starts again (a failed update
    puts the app's data back there). Returns (outcome, message, details).
    """
    if event_id and AppUpdateState.objects.filter(installation=inst, snapshot__event=event_id).exists():
        # The same task again (redelivered after its worker died): starting over from the half-made state would
        # snapshot that state and set aside the real old containers. The recovery finishes or undoes it instead.
        raise OperationPending(deferred("This change was interrupted; it is being finished or undone."))
    snapshot = snapshot_take(inst=inst, eng=eng, event_id=event_id)  # the recovery restores it if we die
    variables = variables if variables is not None else inst.variables
    try:
        project = load_project(compose, variables=variables, project_name=inst.name)
        apply = AppApply(inst, eng, project, refresh=fresh_images, record=record)
        apply.pull()
        app_update(
            inst,
            compose=compose,
            variables=variables,
            ports=_ports(project),
            web_port=_web_port(project),
            publish_state=False,
        )
        _replace(inst=inst, eng=eng, apply=apply, snapshot=snapshot, fresh_images=fresh_images)
    except (InstallFailed, EngineError, ValueError) as exc:
        reason = error_stored(exc)
        log.warning("%s of %s failed (%s); restoring the previous configuration", what, inst.name, reason)
        return _restore(inst=inst, eng=eng, snapshot=snapshot, reason=reason, before_start=before_start)
    try:
        asides_remove(inst=inst, eng=eng, snapshot=snapshot)  # journals the commit first
        consent_commit(inst=inst, record=record)
    except EngineUnavailable as exc:
        raise OperationPending(
            deferred("The container engine went away while the old containers were removed; that ends when it is back.")
        ) from exc
    return Outcome.DONE, "", {"images": list(project.images)}


def _replace(*, inst: Installation, eng: Engine, apply: AppApply, snapshot: dict, fresh_images: bool) -> None:
    """Set the changed containers aside, then create, start and wait for the new ones; each step journalled first."""
    containers_set_aside(inst=inst, eng=eng, project=apply.project, snapshot=snapshot, fresh_images=fresh_images)
    journal(inst=inst, snapshot=snapshot, step=deferred("creating the new containers"))
    apply.create()
    journal(inst=inst, snapshot=snapshot, step=deferred("starting the new containers"))
    apply.start()
    journal(inst=inst, snapshot=snapshot, step=deferred("waiting until the app is healthy"))
    apply.wait_ready()


def _restore(
    *, inst: Installation, eng: Engine, snapshot: dict, reason: str, before_start: Callable[[], None] | None = None
) -> tuple[str, str, dict]:
    """Put the previous compose, variables and exact images back; retry while the engine is restarting, and leave
    the rest to the recovery when it stays away (OperationPending: the app stays locked until then)."""
    app_update(inst, detail=deferred("It did not come up healthy; restoring the previous configuration…"))
    deadline = time.monotonic() + ENGINE_WAIT
    while True:
        try:
            snapshot_restore(inst=inst, eng=eng, snapshot=snapshot, before_start=before_start)
        except EngineUnavailable as exc:
            if time.monotonic() > deadline:
                raise OperationPending(
                    deferred(
                        "%(reason)s The container engine does not answer: the previous configuration comes back when it does.",
                        reason=reason,
                    )
                ) from exc
            time.sleep(3)
            continue
        except (InstallFailed, EngineError, ValueError) as exc:
            error = error_stored(exc)
            return (
                Outcome.FAILED,
                deferred(
                    "%(reason)s The previous configuration could not be restored either: %(error)s",
                    reason=reason,
                    error=error,
                ),
                {},
            )
        return Outcome.ROLLED_BACK, deferred("%(reason)s The previous configuration was restored.", reason=reason), {}


def snapshot_restore(
    *, inst: Installation, eng: Engine, snapshot: dict, before_start: Callable[[], None] | None = None
) -> None:
    """Recreate what differs from the snapshot, on the exact image ids it recorded, and start what ran.
    `before_start` runs once everything of the app is stopped and before anything starts (see config_change)."""
    app_update(
        inst,
        compose=snapshot["compose"],
        variables=snapshot["variables"],
        ports=snapshot["ports"],
        web_port=snapshot["web_port"],
        publish_state=False,
    )
    project = app_project(installation=inst)
    recorded = snapshot["containers"]
    pinned = tuple(
        replace(spec, image=recorded[spec.name]["image_id"]) if recorded.get(spec.name, {}).get("image_id") else spec
        for spec in project.containers
    )
    project = replace(project, containers=pinned)
    asides_restore(inst=inst, eng=eng, snapshot=snapshot)  # the old containers themselves come back
    for info in app_containers_of(eng=eng, name=inst.name):
        was = recorded.get(info.name)
        if was is None or image_of(eng, info.id) != was["image_id"] or info.labels.get(L.CONFIG_HASH) != was["hash"]:
            journal(inst=inst, snapshot=snapshot, step=deferred("removing %(name)s", name=info.name))
            eng.remove(info.id, force=True)
    journal(inst=inst, snapshot=snapshot, step=deferred("restoring"))
    apply = AppApply(inst, eng, project)
    apply.create()
    if before_start is not None:
        stop_all(inst, eng, project)  # containers the change left alone ran on the new data too
        before_start()
    if any(c["running"] for c in recorded.values()):
        apply.start()
        apply.wait_ready()
    else:
        stop_all(inst, eng, project)


def _ports(project: Project) -> list[str]:
    return sorted({f"{p.protocol}/{p.published}" for s in project.containers for p in s.ports if p.published})
