"""Updates: what is available (store template or a moved `latest`-style tag), update with rollback, update all, hold.

A store update carries the installed values over into the new template (environment by key, ports and volumes
by container side), so edits and data paths survive. Every update is a `config_change`: snapshot, pull, recreate
what changed, wait healthy, and restore the exact previous images and compose when it fails.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from casaos_site.i18n import deferred, deferred_join, fitted
from notifications.hooks import app_update_notify
from runtime import Engine
from runtime.compose import ComposeError, load_project, load_yaml
from runtime.errors import EngineError

from ..models import AppEvent, AppUpdateState, Installation
from .common import InstallError, app_publish, engine_for
from .control import operation_queue
from .install import app_project
from .limits import resources_clamp
from .reconfigure import config_change, config_validate
from .settings_edit import compose_dump

log = logging.getLogger(__name__)
REASON_CHARS = 255  # AppUpdateState.reason's column
Outcome = AppEvent.Outcome


# ---------------------------------------------------------------------------- what is available
def app_update_check(*, installation: Installation, eng: Engine | None = None, force: bool = False) -> AppUpdateState:
    """Look for a newer store template and for tags whose registry digest moved; the answer is cached."""
    inst, eng = installation, eng or engine_for(installation)
    state, _created = AppUpdateState.objects.get_or_create(installation=inst)
    ttl = timedelta(minutes=settings.APPS_UPDATE_CACHE_MINUTES)
    if not force and state.checked_at and timezone.now() - state.checked_at < ttl:
        return state
    reasons, local, remote = [], {}, {}
    template = store_compose(inst)
    if _store_marked(inst) or (
        template is not None and _images(template, inst) != set(app_project(installation=inst).images)
    ):
        reasons.append(deferred("A new version is in the app store."))
    for image in app_project(installation=inst).images:
        local[image], remote[image] = _digests(eng, image)
        if remote[image] and local[image] and remote[image] not in local[image]:
            reasons.append(deferred("A newer image was published for %(image)s.", image=image))
    changed = state.available != bool(reasons)
    state.available, state.reason = bool(reasons), _reason(reasons)
    state.local_digests, state.remote_digests, state.checked_at = local, remote, timezone.now()
    state.save()
    if changed:
        app_publish(inst)  # tiles and the app's page show the update flag live
    if changed and state.available:
        app_update_notify(app=inst)
    return state


def app_update_check_all(*, force: bool = False) -> list[str]:
    """The periodic check over every settled app; returns the names with an update available."""
    found = []
    for inst in Installation.objects.filter(status__in=Installation.SETTLED):
        try:
            if app_update_check(installation=inst, force=force).available:
                found.append(inst.name)
        except (EngineError, ComposeError) as exc:
            log.warning("update check of %s failed: %s", inst.name, exc)
    return found


def _digests(eng: Engine, image: str) -> tuple[list[str], str]:
    """(local digests, the registry's digest now); a registry that does not answer leaves the remote empty."""
    local = [d.rpartition("@")[2] for d in eng.image_digests(image)]
    try:
        remote = eng.registry_digest(image)
    except EngineError:
        remote = ""
    return local, remote


def _images(compose: str, inst: Installation) -> set[str]:
    try:
        return set(load_project(compose, variables=inst.variables, project_name=inst.name).images)
    except ValueError:  # ComposeError too
        return set()


# ---------------------------------------------------------------------------- update, update all, hold
def app_update_start(
    *,
    user,
    installation: Installation,
    consent: bool = False,
    consent_paths: Iterable[str] = (),
    backup: bool = True,
    request=None,
) -> AppEvent:
    """Queue an update (validated like an install: new host access needs consent, new ports must be free).
    `backup`: snapshot the app's data first (when it has data and a repository is chosen for updates)."""
    inst = installation
    if AppUpdateState.objects.filter(installation=inst, held=True).exists():
        raise InstallError(
            deferred("%(app)s is held at its current version; release the hold first.", app=inst), code="held"
        )
    template = store_compose(inst)
    compose = template or inst.compose
    record, project = config_validate(
        inst=inst,
        compose=compose,
        user=user,
        operation="update",
        consent=consent,
        consent_paths=consent_paths,
        request=request,
    )
    if template:  # a store template asks what it likes: lowered to this host, as at install
        compose, _lowered = resources_clamp(compose, project)
    return operation_queue(
        user=user,
        installation=inst,
        operation="update",
        request=request,
        details={"compose": compose, "consent": record, "backup": backup},
    )


def app_update_all(*, user, request=None) -> dict[str, list[str]]:
    """Queue an update of every app with one available and not held; busy or refused apps are listed, not fatal."""
    queued, skipped = [], []
    states = AppUpdateState.objects.filter(available=True, held=False).select_related("installation")
    for state in states:
        try:
            app_update_start(user=user, installation=state.installation, request=request)
            queued.append(state.installation.name)
        except InstallError as exc:
            skipped.append(f"{state.installation.name}: {'; '.join(exc.messages)}")
    return {"queued": queued, "skipped": skipped}


def app_hold(*, user, installation: Installation, held: bool, request=None) -> AppUpdateState:
    """Hold the app at its version (no update, not in "update all"), or release the hold."""
    with transaction.atomic():
        state, _created = AppUpdateState.objects.get_or_create(installation=installation)
        state.held = held
        state.save(update_fields=["held"])
        audit_record(actor=user, action="app.hold" if held else "app.unhold", request=request, target=installation.name)
    return state


def run_update(*, event: AppEvent, inst: Installation, eng: Engine) -> tuple[str, str, dict]:
    """Snapshot the data, pull, recreate what changed (also containers whose tag moved), wait healthy, or roll
    back: the app stopped, its data put back from the snapshot, and only then the previous version started."""
    from backups.services.before_update import SnapshotFailed, update_snapshot

    try:
        snapshot = update_snapshot(inst=inst, user=event.user) if event.details.get("backup", True) else None
    except SnapshotFailed as exc:
        return Outcome.FAILED, deferred("The data backup before the update failed: %(error)s", error=exc), {}
    restored = []  # the restore run of the data, once the rollback made it
    outcome, message, details = config_change(
        inst=inst,
        eng=eng,
        compose=event.details["compose"],
        fresh_images=True,
        what="update",
        event_id=event.pk,
        record=event.details.get("consent"),
        before_start=_data_back(snapshot, event, restored) if snapshot is not None else None,
    )
    if outcome == Outcome.DONE:
        update_done(installation=inst)
        message = deferred("Updated.")
    elif outcome == Outcome.ROLLED_BACK and restored:
        message = deferred_join(message, _data_words(snapshot, restored[0]))
    note = _snapshot_note(snapshot, event)
    return outcome, deferred_join(message, note) if note else message, {**details, "compose": "", **_shot(snapshot)}


def _snapshot_note(snapshot, event: AppEvent) -> str:
    """What the result says of the data snapshot: nothing when there is one or it was declined."""
    if snapshot is not None or not event.details.get("backup", True):
        return ""
    return deferred("No data snapshot was taken (no data, or no backup repository is chosen for updates).")


def _shot(snapshot) -> dict:
    return {"data_snapshot": snapshot.short_id} if snapshot is not None else {}


def _data_back(snapshot, event: AppEvent, restored: list) -> Callable[[], None]:
    """What the rollback calls while the app is stopped: the data the snapshot before the update holds, put back
    (once, even when an engine outage makes the rollback try again)."""
    from backups.services.before_update import update_data_restore

    def restore() -> None:
        if not restored:
            restored.append(update_data_restore(snapshot=snapshot, user=event.user))

    return restore


def _data_words(snapshot, run) -> str:
    """What the result says of the data restore."""
    if run.status == run.Status.DONE:
        return deferred("Its data was restored from the snapshot %(id)s.", id=snapshot.short_id)
    return deferred(
        "Its data could not be restored from the snapshot %(id)s: %(error)s", id=snapshot.short_id, error=run.error
    )


def update_done(*, installation: Installation) -> None:
    """After an update: nothing is available any more, and a store app now runs the store's current template."""
    AppUpdateState.objects.filter(installation=installation).update(available=False, reason="", checked_at=None)
    _store_record(installation)


# ---------------------------------------------------------------------------- the store's new template
def store_template(inst: Installation):
    """The store's current template of a store app (CatalogApp), or None: the one it was installed from first."""
    if inst.source != Installation.Source.STORE:
        return None
    from appstore.models import CatalogApp, InstalledTemplate
    from appstore.selectors import catalog_app_for

    installed = InstalledTemplate.objects.filter(installation=inst).first()
    app = catalog_app_for(installed.store_app_id, store_id=installed.store_id) if installed else None
    if app is None and inst.store_ref.isdigit():
        app = CatalogApp.objects.filter(pk=inst.store_ref).first()
    return app or catalog_app_for(inst.name)


def store_compose(inst: Installation) -> str | None:
    """The store's current template with this install's values carried over, or None (custom app, no store)."""
    from appstore.install import install_fields, render_compose

    app = store_template(inst)
    if app is None:
        return None
    defaults = {f.key: f.initial for f in install_fields(app, name=inst.name) if f.kind == "volume"}
    new = load_yaml(render_compose(app, defaults))
    merged = compose_carry_over(load_yaml(inst.compose), new)
    return merged if merged != compose_dump(load_yaml(inst.compose)) else None


def _store_marked(inst: Installation) -> bool:
    """The app store's own mark (set at each store sync against the template the app was installed from)."""
    from appstore.selectors import update_available_for

    return inst.source == Installation.Source.STORE and update_available_for(inst)


def _store_record(inst: Installation) -> None:
    """After a store update: the template now installed is the store's current one (its mark clears)."""
    from appstore.updates import installed_template_record

    app = store_template(inst)
    if app is not None:
        installed_template_record(installation=inst, app=app)


def compose_carry_over(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The new template, keeping the installed environment values (by key), ports (by container port) and
    volumes (by container path) of services present in both: what the person chose survives an update."""
    old_services = old.get("services") or {}
    for name, svc in (new.get("services") or {}).items():
        before = old_services.get(name)
        if not isinstance(before, dict) or not isinstance(svc, dict):
            continue
        svc["environment"] = _merge_env(before.get("environment"), svc.get("environment"))
        for key, side in (("ports", _port_target), ("volumes", _volume_target)):
            kept = {side(e): e for e in before.get(key) or []}
            merged = [kept.pop(side(e), e) for e in svc.get(key) or []]
            merged += [e for e in kept.values() if key == "volumes"]  # a folder the person added stays mounted
            if merged:
                svc[key] = merged
        if not svc["environment"]:
            svc.pop("environment")
    return compose_dump(new)


def _merge_env(before: Any, after: Any) -> dict[str, Any]:
    def mapping(env: Any) -> dict[str, Any]:
        if isinstance(env, dict):
            return dict(env)
        return {str(i).partition("=")[0]: str(i).partition("=")[2] for i in env or []}

    old, new = mapping(before), mapping(after)
    return {**new, **old}  # new keys arrive, values (and keys) the person had stay


def _port_target(entry: Any) -> str:
    if isinstance(entry, dict):
        return f"{entry.get('target')}/{entry.get('protocol') or 'tcp'}"
    head, _sep, protocol = str(entry).partition("/")
    return f"{head.rsplit(':', 1)[-1]}/{protocol or 'tcp'}"


def _volume_target(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("target", ""))
    parts = str(entry).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _reason(reasons: list[str]) -> str:
    """The reasons, stored to be shown in the reader's language; as many as the column holds."""
    for count in range(len(reasons), 1, -1):
        if len(joined := deferred_join(*reasons[:count])) <= REASON_CHARS:
            return joined
    return fitted(reasons[0], REASON_CHARS) if reasons else ""
