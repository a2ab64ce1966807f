"""The install request: validate everything we can before anything exists, store it, queue the work."""

import re
import socket
from collections.abc import Collection, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.permissions import INSTALL_REFUSED, user_is_admin, user_may_install
from accounts.services import audit_record
from casaos_site.i18n import deferred
from runtime import labels as L
from runtime.compose import ComposeError, MissingVariable, Project, load_project, load_yaml
from runtime.errors import EngineError, NotFound
from system.selectors import apps_time_zone

from ..models import AppGrant, Installation
from ..selectors import app_claimed_ports, app_name_taken
from .common import ComposeInvalid, InstallError, app_publish, engine, engine_for, engine_words, never_pulled
from .limits import resources_check, resources_clamp
from .operation import install_history_open
from .placement import placement_clean, placement_fits
from .policy import consent_named, policy_gate

_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_COMPOSE = 256 * 1024  # bytes; real compose files are a few KiB
BUILTINS = ("AppID", "PUID", "PGID", "TZ", "WEBUI_PORT")


def app_install(
    *,
    user,
    compose: str,
    name: str | None = None,
    inputs: dict | None = None,
    source: str = "custom",
    store_app=None,
    consent: bool = False,
    override_limits: bool = False,
    consent_paths: Iterable[str] = (),
    held: Collection[str] = (),
    seed: dict | None = None,
    placement: dict | None = None,
    request=None,
) -> Installation:
    """Validate an install, record it as pending and queue the pipeline once the row is committed.

        `consent_paths` names the explicit host access consented to (our data, code, the engine's); `held` is host
        access approved beforehand (an adopted container's own volumes). `override_limits`: an admin allows resource
        requests above this host (audited); a store app's are lowered to what the host has instead. `seed`: where the
        app's data comes from before its containers exist (apps.services.seed). `placement`: where it runs (this box unless
    said otherwise; apps.services.placement), fixed for the app's life."""
    if not user_may_install(user):
        raise InstallError(str(INSTALL_REFUSED), code="forbidden")
    compose = compose_text(compose)
    if len(compose.encode()) > MAX_COMPOSE:
        raise InstallError(deferred("The compose document is too large (at most 256 KiB)."), code="compose")
    clean_inputs = _clean_inputs(inputs or {})
    placement = placement_clean(placement)
    # One writer at a time (SQLite IMMEDIATE transactions): two requests cannot claim the same name or port.
    with transaction.atomic():
        final_name = _choose_name(name, compose)
        variables = {**_builtins(final_name, clean_inputs), **clean_inputs, "AppID": final_name}
        project = _load(compose, variables, final_name)
        lowered = []
        if source == Installation.Source.STORE:  # lowered first: the policy judges what will be created
            compose, lowered = resources_clamp(compose, project)
            project = _load(compose, variables, final_name) if lowered else project
        record = policy_gate(
            project=project, app=final_name, user=user, consent=consent, named=consent_paths, request=request, held=held
        )
        resources_check(project=project, user=user, override=override_limits, request=request)
        placement_fits(placement, project)
        ports = _check_all(project, eng=engine_for(Installation(placement=placement)))
        inst = Installation.objects.create(
            name=final_name,
            title=_title(project, store_app),
            source=source,
            store_ref=_store_ref(store_app),
            compose=compose,
            inputs=clean_inputs,
            variables=variables,
            ports=ports,
            web_port=_web_port(project),
            requested_by=user if getattr(user, "pk", None) else None,
            consents=[record],
            seed=seed or {},
            placement=placement,
            heartbeat_at=timezone.now(),  # when it was queued: the reconcile finds a queued task that got lost
        )
        details = {"source": source, "images": list(project.images), "ports": ports}
        if placement:
            details["placement"] = placement
        if record["items"]:
            details["host_access"] = record["items"]
        if lowered:
            details["limits_lowered"] = "; ".join(str(p) for p in lowered)  # the audit log keeps flat values
        if _grant_to_member(inst, user):
            details["granted_to"] = user.get_username()
        audit_record(actor=user, action="app.install", request=request, target=final_name, details=details)
        install_history_open(installation=inst, user=user)
        _queue(inst)
    return inst


def app_install_retry(*, user, installation: Installation, request=None) -> Installation:
    """Queue a failed or cancelled install again with the settings it was asked with, after the checks a new install
    passes (its ports may be taken by now; host access it was granted needs a fresh step-up again). Its resource
    requests passed when it was asked (or an admin allowed them, audited then), and only an admin retries."""
    with transaction.atomic():
        inst = Installation.objects.filter(pk=installation.pk).first()
        if inst is None or inst.status not in Installation.ENDED:
            raise InstallError(deferred("Only a failed or cancelled install can be retried."), code="state")
        if inst.seed:  # its data came from elsewhere (apps.services.seed): a retry would start it without
            raise InstallError(deferred("This app was a copy restored from a backup: restore it again."), code="state")
        project = _load(inst.compose, inst.variables, inst.name)
        # Host access it was given needs the password again (and the paths it was given, named again).
        record = policy_gate(
            project=project, app=inst.name, user=user, consent=True, named=consent_named(inst), request=request
        )
        ports = _check_all(project, app=inst.name, eng=engine_for(inst))
        now = timezone.now()
        Installation.objects.filter(pk=inst.pk).update(
            consents=[*inst.consents, {**record, "operation": "retry"}],
            status=Installation.Status.PENDING,
            detail="",
            error="",
            attempts=0,
            cancel_requested=False,
            worker="",
            ports=ports,
            progress={"retried": True},  # the pipeline then looks for what the earlier attempt may have left
            heartbeat_at=now,
            updated_at=now,
        )
        inst.refresh_from_db()
        audit_record(actor=user, action="app.retry", request=request, target=inst.name)
        install_history_open(installation=inst, user=user, retry=True)
        _queue(inst)
    return inst


def _queue(inst: Installation) -> None:
    """The pipeline's task and the first live event, once the row is committed."""
    from ..tasks import app_install as app_install_task

    transaction.on_commit(lambda: app_install_task.delay(inst.pk))
    transaction.on_commit(lambda: app_publish(inst))


def compose_text(text: str) -> str:
    """A compose document as we store it: LF line ends (a browser's textarea sends CRLF; YAML reads both alike)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def app_project(*, installation: Installation) -> Project:
    """The stored request rendered again into engine specs (deterministic: the variables were fixed at request)."""
    return load_project(installation.compose, variables=installation.variables, project_name=installation.name)


# ---------------------------------------------------------------------------- validation steps
def _clean_inputs(inputs: dict[str, Any]) -> dict[str, str]:
    """User variables: names the Compose syntax accepts, values as strings; AppID stays ours."""
    clean = {}
    for key, value in inputs.items():
        if not isinstance(key, str) or not _VARIABLE.match(key):
            raise InstallError(deferred("%(key)r is not a valid variable name.", key=key), code="inputs")
        if not isinstance(value, str | int | float | bool) or isinstance(value, bool):
            raise InstallError(deferred("The value of %(key)s must be text or a number.", key=key), code="inputs")
        clean[key] = str(value)
    clean.pop("AppID", None)
    return clean


def app_name_check(*, name: str) -> str:
    """A name asked for a new app: valid, and used by no app of ours and no compose project on the engine."""
    if not L.is_valid_project_name(name) or len(name) > 63:
        raise InstallError(
            deferred("%(name)r is not a valid app name: use lowercase letters, digits, '-' and '_'.", name=name),
            code="name",
        )
    if _name_taken(name):
        raise InstallError(deferred("The name %(name)s is already used by another app.", name=name), code="name")
    return name


def _choose_name(name: str | None, compose: str) -> str:
    """The asked-for name (refused when taken), or one derived from the document and made unique."""
    if name:
        return app_name_check(name=name)
    base = (L.normalize_project_name(_suggested_name(compose)) or "app")[:56]
    candidate, n = base, 1
    while _name_taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _suggested_name(compose: str) -> str:
    """The document's `name:`, else its first service (never a fixed placeholder)."""
    try:
        tree = load_yaml(compose)
    except ComposeError as exc:
        raise ComposeInvalid(exc) from exc
    if isinstance(tree.get("name"), str) and "$" not in tree["name"]:
        return tree["name"]
    services = tree.get("services")
    return next(iter(services), "") if isinstance(services, dict) and services else ""


def _name_taken(name: str) -> bool:
    """Taken by one of our rows, or by a compose project on the engine we did not make."""
    if app_name_taken(name=name):
        return True
    try:
        return bool(engine().list({L.PROJECT: name}))
    except EngineError as exc:
        raise _engine_down(exc) from exc


def _builtins(name: str, inputs: dict[str, str]) -> dict[str, str]:
    """The variables every compose file may use; WEBUI_PORT is a free host port unless the user chose one."""
    return {
        "AppID": name,
        "PUID": str(settings.APPS_PUID),
        "PGID": str(settings.APPS_PGID),
        "TZ": apps_time_zone(),  # Settings → System's time zone, else CASAOS_TZ
        "WEBUI_PORT": inputs.get("WEBUI_PORT") or str(_free_port()),
    }


def _free_port() -> int:
    """A host port nothing listens on and no app claims."""
    claimed = app_claimed_ports()
    for _attempt in range(20):
        with socket.socket() as sock:
            sock.bind(("0.0.0.0", 0))
            port = sock.getsockname()[1]
        if f"tcp/{port}" not in claimed:
            return port
    raise InstallError(deferred("No free port could be found for the web interface."), code="ports")


def _load(compose: str, variables: dict[str, str], name: str) -> Project:
    """Parse, interpolate and translate; anything unsupported is refused with the key that caused it."""
    try:
        return load_project(compose, variables=variables, project_name=name)
    except MissingVariable as exc:
        raise InstallError(
            deferred("The app needs a value for %(name)s: %(message)s", name=exc.name, message=exc.message),
            code="inputs",
        ) from exc
    except ComposeError as exc:
        raise ComposeInvalid(exc) from exc


def _check_all(project: Project, *, eng, app: str = "") -> list[str]:
    """What an install and its retry both pass besides the policy: free ports, free container names (on the engine
    the app runs on)."""
    ports = _check_ports(project)
    _check_engine(project, eng=eng, app=app)
    return ports


def _grant_to_member(inst: Installation, user) -> bool:
    """A member who installs an app sees it (admins see every app anyway)."""
    if user_is_admin(user):
        return False
    AppGrant.objects.create(installation=inst, user=user)
    return True


def _check_ports(project: Project) -> list[str]:
    """Published host ports: unique in the document, claimed by no other app, free on this machine."""
    claimed = app_claimed_ports()
    seen: dict[str, str] = {}
    for spec in project.containers:
        for port in spec.ports:
            if port.published is None:
                continue
            key = f"{port.protocol}/{port.published}"
            if key in seen and seen[key] != port.host_ip:
                continue  # the same port on two different host addresses is fine
            if key in seen:
                raise InstallError(
                    deferred("Port %(port)s is published twice in the compose document.", port=key), code="ports"
                )
            if key in claimed:
                raise InstallError(
                    deferred("Port %(port)s is already used by the app %(app)s.", port=key, app=claimed[key]),
                    code="ports",
                )
            if not _port_free(port.published, port.protocol, port.host_ip):
                raise InstallError(deferred("Port %(port)s is already in use on this machine.", port=key), code="ports")
            seen[key] = port.host_ip
    return list(seen)


def _port_free(port: int, protocol: str, host_ip: str) -> bool:
    """Try to bind it ourselves: the only answer that counts is the kernel's."""
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    family = socket.AF_INET6 if ":" in host_ip else socket.AF_INET
    with socket.socket(family, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers are not "in use"
        try:
            sock.bind((host_ip or ("::" if family == socket.AF_INET6 else "0.0.0.0"), port))
        except OSError:
            return False
    return True


def _check_engine(project: Project, *, eng, app: str = "") -> None:
    """Container names must not belong to a container that already exists (but `app`'s own, which a retry reuses);
    `pull_policy: never` images must be here already."""
    for image in project.images:
        if project.pull_policy(image) == "never" and not _image_here(eng, image):
            raise InstallError(never_pulled(image), code="compose")
    for spec in project.containers:
        try:
            found = eng.inspect(spec.name)
        except NotFound:
            continue
        except EngineError as exc:
            raise _engine_down(exc) from exc
        if not app or found.labels.get(L.APP) != app:
            raise InstallError(deferred("A container named %(name)s already exists.", name=spec.name), code="name")


def _image_here(eng, image: str) -> bool:
    try:
        return eng.image_exists(image)
    except EngineError as exc:
        raise _engine_down(exc) from exc


def _engine_down(exc: EngineError) -> InstallError:
    return InstallError(
        deferred("The container engine does not answer (%(error)s).", error=engine_words(exc)), code="engine"
    )


# ---------------------------------------------------------------------------- what we store
def _casaos(project: Project) -> dict[str, Any]:
    value = project.extensions.get("x-casaos")
    return value if isinstance(value, dict) else {}


def _title(project: Project, store_app) -> str:
    """The store's title, else the document's x-casaos title, else nothing (the name is shown)."""
    title = getattr(store_app, "title", "") or _casaos(project).get("title") or ""
    if isinstance(title, dict):  # x-casaos titles are per locale
        title = title.get("en_us") or title.get("en_US") or next(iter(title.values()), "")
    return str(title)[:200]


def _store_ref(store_app) -> str:
    if store_app is None:
        return ""
    return str(getattr(store_app, "pk", None) or store_app)[:255]


def _web_port(project: Project) -> int | None:
    """The host port of the web interface: x-casaos port_map when published, else the main service's first TCP port."""
    meta = _casaos(project)
    published = [p for spec in project.containers for p in spec.ports if p.published and p.protocol == "tcp"]
    port_map = str(meta.get("port_map") or "")
    if port_map.isdigit() and any(p.published == int(port_map) for p in published):
        return int(port_map)
    main = meta.get("main")
    for spec in project.containers:
        if main in (None, spec.service):
            tcp = [p.published for p in spec.ports if p.published and p.protocol == "tcp"]
            if tcp:
                return tcp[0]
    return published[0].published if published else None
